#!/usr/bin/env bash
# Runs a command with the project's Node (>= 24, fetched when the machine's is older)
# first on PATH: `hack/with-node.sh npm ci`.
set -euo pipefail
node_bin_dir="$("$(dirname "$0")/node.sh")"
PATH="$node_bin_dir:$PATH" exec "$@"
