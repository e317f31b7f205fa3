#!/usr/bin/env bash
# Prints a directory holding a `node` binary of the pinned major version, fetching
# it into the tool cache when the machine's own node is older. Make and .ci/run put
# this directory first on PATH, so every npm script runs on the same Node.
#
# Node is fetched from the npm registry (the node-linux-<arch> package carries the
# official binary) because that registry is the one every machine here can reach.
set -euo pipefail

NODE_MAJOR_REQUIRED=24
NODE_VERSION_PINNED=24.21.0
cache_dir="${PAXOS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/paxos-operator}"

machine_node_major() {
  command -v node >/dev/null 2>&1 || { echo 0; return; }
  node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

if [ "$(machine_node_major)" -ge "$NODE_MAJOR_REQUIRED" ]; then
  dirname "$(command -v node)"
  exit 0
fi

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "hack/node.sh: no Node ${NODE_VERSION_PINNED} build for $(uname -m); install Node >= ${NODE_MAJOR_REQUIRED} yourself and put it first on PATH" >&2; exit 1 ;;
esac

install_dir="$cache_dir/node-v$NODE_VERSION_PINNED"
node_bin_dir="$install_dir/node_modules/node-linux-$arch/bin"
if [ ! -x "$node_bin_dir/node" ]; then
  command -v npm >/dev/null 2>&1 || {
    echo "hack/node.sh: need npm to fetch Node $NODE_VERSION_PINNED; install Node >= $NODE_MAJOR_REQUIRED (e.g. with nvm: nvm install $NODE_MAJOR_REQUIRED)" >&2
    exit 1
  }
  echo "fetching Node $NODE_VERSION_PINNED into $install_dir (machine node is $(node --version 2>/dev/null || echo missing)) ..." >&2
  staging_dir="$install_dir.partial.$$"
  rm -rf "$staging_dir"
  mkdir -p "$staging_dir"
  npm install --prefix "$staging_dir" --no-save --no-audit --no-fund --loglevel=error \
    "node-linux-$arch@$NODE_VERSION_PINNED" >&2
  "$staging_dir/node_modules/node-linux-$arch/bin/node" --version >/dev/null
  rm -rf "$install_dir"
  mv "$staging_dir" "$install_dir"
fi
echo "$node_bin_dir"
