#!/usr/bin/env bash
# Builds the tools the tests use from Go modules, at the versions pinned in
# hack/versions.env, and links them into bin/ at the repository root:
#
#   etcd                     hack/etcd        (wrapper around go.etcd.io/etcd/server/v3)
#   kube-apiserver           hack/kubernetes  (k8s.io/kubernetes/cmd/...)
#   kube-controller-manager  hack/kubernetes
#   kube-scheduler           hack/kubernetes
#   kubectl                  hack/kubernetes
#   helm                     hack/helm        (helm.sh/helm/v3/cmd/helm)
#   lincheck                 hack/lincheck    (our Porcupine checker)
#   kind                     hack/kind        (sigs.k8s.io/kind; only when named: hack/e2e-kind.sh)
#
# Usage: hack/tools.sh [tool...]      (no arguments: all of them but kind)
#
# Binaries are cached outside the work tree, one directory per tool and version:
#   ${PAXOS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/paxos-operator}/<name>-<version>/<name>
# and bin/<name> is a symlink to the cached binary. A tool whose binary is cached is
# not rebuilt and `go` is not run at all, so a warm run takes milliseconds. Cold
# builds need only `go` and the Go module proxy; the Kubernetes ones take minutes.
set -euo pipefail

HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ROOT_DIR=$(dirname "$HACK_DIR")
BIN_DIR=$ROOT_DIR/bin
CACHE_DIR=${PAXOS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/paxos-operator}

# shellcheck source=versions.env
source "$HACK_DIR/versions.env"

ALL_TOOLS=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl helm lincheck)

die() {
  echo "hack/tools.sh: $*" >&2
  exit 1
}

usage() {
  echo "usage: hack/tools.sh [tool...]   tools: ${ALL_TOOLS[*]}"
}

# Temporary files of the build in progress, removed however the script ends, so an
# interrupted build leaves neither a half-written binary nor a stray log behind.
TMP_FILES=()
cleanup() {
  if ((${#TMP_FILES[@]})); then rm -f "${TMP_FILES[@]}"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The version of module $2 required by the go.mod file $1 (empty if none).
gomod_version() {
  awk -v mod="$2" '
    $1 == "require" && $2 == mod { print $3; exit }
    $1 == mod && $2 ~ /^v/       { print $2; exit }
  ' "$1"
}

# Fails unless go.mod file $1 requires module $2 at version $3 (the one versions.env pins).
check_pin() {
  local have
  have=$(gomod_version "$1" "$2")
  [[ $have == "$3" ]] ||
    die "${1#"$ROOT_DIR"/} requires $2 ${have:-(nothing)} but hack/versions.env pins $3; make them agree (go get $2@$3 && go mod tidy in $(dirname "${1#"$ROOT_DIR"/}"))"
}

# LINCHECK_VERSION=auto: a label derived from the checker's sources, so that any change
# to them gives a new cache directory and therefore a rebuild.
lincheck_version() {
  if [[ ${LINCHECK_VERSION:-auto} != auto ]]; then
    echo "$LINCHECK_VERSION"
    return
  fi
  [[ -d $HACK_DIR/lincheck ]] || { echo missing; return; }
  local sum
  sum=$(cd "$HACK_DIR/lincheck" &&
    find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) -not -path '*/.*' |
    LC_ALL=C sort | xargs -r sha256sum | sha256sum)
  echo "src-${sum:0:12}"
}

tool_version() {
  case $1 in
    etcd) echo "$ETCD_VERSION" ;;
    kube-apiserver | kube-controller-manager | kube-scheduler | kubectl) echo "$KUBERNETES_VERSION" ;;
    helm) echo "$HELM_VERSION" ;;
    kind) echo "$KIND_VERSION" ;;
    lincheck) lincheck_version ;;
    *) return 1 ;;
  esac
}

# Sets BUILD_DIR, BUILD_PKG and BUILD_LDFLAGS for tool $1 at version $2, after checking
# that the Go module pins the same version as versions.env.
build_settings() {
  local name=$1 version=$2
  BUILD_LDFLAGS="-s -w"
  case $name in
    etcd)
      BUILD_DIR=$HACK_DIR/etcd
      BUILD_PKG=.
      check_pin "$BUILD_DIR/go.mod" go.etcd.io/etcd/server/v3 "$version"
      # The version itself is a constant of go.etcd.io/etcd/api/v3/version; only the
      # commit is left to the build (its default says to use etcd's own build script).
      BUILD_LDFLAGS+=" -X go.etcd.io/etcd/api/v3/version.GitSHA=go-module"
      ;;
    kube-apiserver | kube-controller-manager | kube-scheduler | kubectl)
      BUILD_DIR=$HACK_DIR/kubernetes
      BUILD_PKG=k8s.io/kubernetes/cmd/$name
      check_pin "$BUILD_DIR/go.mod" k8s.io/kubernetes "$version"
      local staging=v0.${version#v1.}
      local stale
      stale=$(awk -v want="$staging" '$1 ~ /^k8s\.io\// && $2 == "=>" && $4 != want { print $1 " " $4 }' "$BUILD_DIR/go.mod")
      [[ -z $stale ]] ||
        die "hack/kubernetes/go.mod replaces ${stale//$'\n'/, } but Kubernetes $version needs its staging modules at $staging"
      # What hack/lib/version.sh of Kubernetes sets, for both version packages.
      local major=${version#v} && major=${major%%.*}
      local minor=${version#v*.} && minor=${minor%%.*}
      # The module proxy does not know the release's commit (left empty rather than the
      # "$Format:%H$" placeholder); the build date is the release's time, for reproducibility.
      local date pkg
      date=$(cd "$BUILD_DIR" && GOWORK=off go list -mod=readonly -m \
        -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)
      for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        BUILD_LDFLAGS+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
        BUILD_LDFLAGS+=" -X $pkg.gitCommit= -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
      done
      ;;
    helm)
      BUILD_DIR=$HACK_DIR/helm
      BUILD_PKG=helm.sh/helm/v3/cmd/helm
      check_pin "$BUILD_DIR/go.mod" helm.sh/helm/v3 "$version"
      # What Helm's Makefile sets: its version, and the Kubernetes version it reports
      # to charts by default (.Capabilities), derived from its client-go version.
      local client_go k8s_major k8s_minor
      client_go=$(gomod_version "$BUILD_DIR/go.mod" k8s.io/client-go)
      client_go=${client_go#v}
      k8s_major=$((${client_go%%.*} + 1))
      k8s_minor=${client_go#*.} && k8s_minor=${k8s_minor%%.*}
      BUILD_LDFLAGS+=" -X helm.sh/helm/v3/internal/version.version=$version"
      BUILD_LDFLAGS+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
      local pkg
      for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
        BUILD_LDFLAGS+=" -X $pkg.k8sVersionMajor=$k8s_major -X $pkg.k8sVersionMinor=$k8s_minor"
      done
      ;;
    kind)
      BUILD_DIR=$HACK_DIR/kind
      BUILD_PKG=sigs.k8s.io/kind
      check_pin "$BUILD_DIR/go.mod" sigs.k8s.io/kind "$version"
      ;;
    lincheck)
      BUILD_DIR=$HACK_DIR/lincheck
      BUILD_PKG=.
      ;;
  esac
}

GO_CHECKED=
require_go() {
  [[ -z $GO_CHECKED ]] || return 0
  command -v go >/dev/null 2>&1 ||
    die "go not found in PATH; install Go (the version in hack/*/go.mod or newer, https://go.dev/dl/) and rerun"
  GO_CHECKED=1
}

human_mib() {
  local bytes
  bytes=$(wc -c <"$1")
  echo "$(((bytes + 524288) / 1048576)) MiB"
}

# Points bin/$1 at $2, replacing any older link in one rename.
link_tool() {
  local name=$1 target=$2 link=$BIN_DIR/$1
  [[ -L $link && $(readlink "$link") == "$target" ]] && return 0
  mkdir -p "$BIN_DIR"
  local tmp_link=$BIN_DIR/.$name.link.$$
  TMP_FILES+=("$tmp_link")
  ln -sfn "$target" "$tmp_link"
  mv -f "$tmp_link" "$link"
}

build_tool() {
  local name=$1 version dir out
  version=$(tool_version "$name")
  dir=$CACHE_DIR/$name-$version
  out=$dir/$name

  if [[ -x $out ]]; then
    echo "$name $version: cached"
    link_tool "$name" "$out"
    return 0
  fi

  if [[ $name == lincheck && ! -d $HACK_DIR/lincheck ]]; then
    if ((EXPLICIT)); then
      die "hack/lincheck does not exist, so lincheck cannot be built"
    fi
    echo "lincheck: skipped (hack/lincheck does not exist yet)"
    return 0
  fi

  require_go
  build_settings "$name" "$version"

  local hint=""
  [[ $BUILD_DIR == "$HACK_DIR/kubernetes" ]] && hint=" (cold builds take minutes)"
  printf '%s' "building $name $version$hint ... "

  mkdir -p "$dir"
  local tmp=$dir/.$name.tmp.$$ log=$dir/.$name.log.$$
  TMP_FILES+=("$tmp" "$log")
  local start=$SECONDS
  # -mod=readonly: go.mod/go.sum must be complete as committed; GOWORK=off keeps each
  # module on its own pins; -buildvcs=false: our checkout's VCS state means nothing here.
  if ! (cd "$BUILD_DIR" &&
    GOWORK=off CGO_ENABLED=0 go build -mod=readonly -buildvcs=false -trimpath \
      -ldflags "$BUILD_LDFLAGS" -o "$tmp" "$BUILD_PKG") >"$log" 2>&1; then
    echo "FAILED"
    grep -v '^go: downloading ' "$log" >&2 || true
    die "building $name $version failed (in ${BUILD_DIR#"$ROOT_DIR"/})"
  fi
  mv -f "$tmp" "$out"
  echo "built in $((SECONDS - start))s, $(human_mib "$out")"
  link_tool "$name" "$out"
}

EXPLICIT=0
TOOLS=()
for arg in "$@"; do
  case $arg in
    -h | --help)
      usage
      exit 0
      ;;
    -*)
      usage >&2
      exit 2
      ;;
    *)
      tool_version "$arg" >/dev/null 2>&1 || {
        echo "hack/tools.sh: unknown tool: $arg" >&2
        usage >&2
        exit 2
      }
      TOOLS+=("$arg")
      EXPLICIT=1
      ;;
  esac
done
((${#TOOLS[@]})) || TOOLS=("${ALL_TOOLS[@]}")

for tool in "${TOOLS[@]}"; do
  build_tool "$tool"
done
