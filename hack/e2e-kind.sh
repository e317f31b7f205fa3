#!/usr/bin/env bash
# The e2e suite on kind (`make e2e-kind`): a kind cluster of one control-plane node and
# four workers in four zones (hack/kind/cluster.yaml), the replica and operator images
# built from images/*.Dockerfile and loaded into its nodes, the operator installed with
# the Helm chart, then `vitest --project e2e` against it with PAXOS_E2E_TARGET=kind.
#
# Usage: hack/e2e-kind.sh [vitest arguments...]    e.g. hack/e2e-kind.sh test/e2e/failover.test.ts
#
# Environment:
#   KIND_CLUSTER   the cluster's name (default paxos-e2e); an existing cluster of that
#                  name is reused, without its images or release being reset first
#   KEEP_CLUSTER   1: keep the cluster when the script ends (default: delete it, even one
#                  that was reused); its kubeconfig path is printed
#   IMAGE_TAG      the tag of both images (default: the version in package.json)
#   KIND           the kind binary to use (default: kind on PATH, else built by
#                  `hack/tools.sh kind` from its Go module at KIND_VERSION)
#
# Needs Docker (a running daemon) and either kind or Go. Takes about 10 minutes on a
# warm machine, most of it creating the cluster and building the images.
set -euo pipefail

HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ROOT_DIR=$(dirname "$HACK_DIR")
CACHE_DIR=${PAXOS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/paxos-operator}

# shellcheck source=versions.env
source "$HACK_DIR/versions.env"

KIND_CLUSTER=${KIND_CLUSTER:-paxos-e2e}
KEEP_CLUSTER=${KEEP_CLUSTER:-0}
KIND_CONFIG=$HACK_DIR/kind/cluster.yaml
KUBECONFIG_PATH=$CACHE_DIR/kind/$KIND_CLUSTER.kubeconfig
OPERATOR_NAMESPACE=paxos-system
RELEASE=paxos-operator
OPERATOR_REPOSITORY=ghcr.io/paxos-operator/operator
REPLICA_REPOSITORY=ghcr.io/paxos-operator/replica

log() {
  echo "==> $*"
}

die() {
  echo "hack/e2e-kind.sh: $*" >&2
  exit 1
}

require_docker() {
  command -v docker >/dev/null 2>&1 ||
    die "docker not found in PATH: install Docker Engine (https://docs.docker.com/engine/install/) or Docker Desktop, then rerun"
  docker info >/dev/null 2>&1 ||
    die "docker is installed but its daemon does not answer ('docker info' failed): start Docker, or run as a user allowed to use it (the docker group)"
}

# Sets KIND to a kind binary: $KIND, else kind on PATH, else bin/kind built from its Go
# module at KIND_VERSION (hack/tools.sh kind; cached after the first build).
find_kind() {
  if [[ -n ${KIND:-} ]]; then
    [[ -x $KIND ]] || command -v "$KIND" >/dev/null 2>&1 || die "KIND=$KIND is not an executable"
  elif command -v kind >/dev/null 2>&1; then
    KIND=$(command -v kind)
  elif command -v go >/dev/null 2>&1; then
    log "kind not found in PATH; building kind $KIND_VERSION from its Go module"
    "$HACK_DIR/tools.sh" kind
    KIND=$ROOT_DIR/bin/kind
  else
    die "kind not found in PATH and no Go to build it: install kind $KIND_VERSION ('go install sigs.k8s.io/kind@$KIND_VERSION', or a release binary from https://kind.sigs.k8s.io/docs/user/quick-start/#installation), then rerun"
  fi
  local version
  version=$("$KIND" version 2>/dev/null | awk '{ print $2 }')
  if [[ $version != "$KIND_VERSION" ]]; then
    echo "hack/e2e-kind.sh: warning: $KIND is kind ${version:-(unknown version)}, but the node image in hack/kind/cluster.yaml is built for kind $KIND_VERSION" >&2
  fi
}

CLUSTER_READY=0
# Runs however the script ends: on failure, what is needed to see why; then the cluster
# is deleted unless KEEP_CLUSTER=1.
finish() {
  local status=$?
  set +e
  if ((status != 0 && CLUSTER_READY)); then
    echo "---- diagnostics (exit status $status) ----" >&2
    "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" get nodes,pods --all-namespaces -o wide >&2
    "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" get paxosclusters --all-namespaces -o wide >&2 2>/dev/null
    "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" --namespace "$OPERATOR_NAMESPACE" \
      describe deployment "$RELEASE" >&2
    "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" --namespace "$OPERATOR_NAMESPACE" \
      logs --selector "app.kubernetes.io/instance=$RELEASE" --all-containers --prefix --tail 200 >&2
    "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" get events --all-namespaces --sort-by .lastTimestamp 2>&1 |
      tail -n 100 >&2
  fi
  if [[ $KEEP_CLUSTER == 1 ]]; then
    if ((CLUSTER_READY)); then
      log "kept kind cluster $KIND_CLUSTER (KEEP_CLUSTER=1): export KUBECONFIG=$KUBECONFIG_PATH"
      log "delete it with: $KIND delete cluster --name $KIND_CLUSTER"
    fi
  elif [[ -n ${KIND:-} ]] && "$KIND" get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"; then
    log "deleting kind cluster $KIND_CLUSTER (KEEP_CLUSTER=1 keeps it)"
    "$KIND" delete cluster --name "$KIND_CLUSTER"
    rm -f "$KUBECONFIG_PATH"
  fi
  exit "$status"
}

main() {
  cd "$ROOT_DIR"
  require_docker
  find_kind
  log "building helm and kubectl if needed"
  "$HACK_DIR/tools.sh" helm kubectl
  HELM=$ROOT_DIR/bin/helm
  KUBECTL=$ROOT_DIR/bin/kubectl

  local version tag revision
  version=$("$HACK_DIR/with-node.sh" node -p 'require("./package.json").version')
  tag=${IMAGE_TAG:-$version}
  revision=$(git -C "$ROOT_DIR" rev-parse HEAD 2>/dev/null || echo unknown)
  local operator_image=$OPERATOR_REPOSITORY:$tag replica_image=$REPLICA_REPOSITORY:$tag

  trap finish EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  mkdir -p "$(dirname "$KUBECONFIG_PATH")"
  if "$KIND" get clusters | grep -qx "$KIND_CLUSTER"; then
    log "reusing kind cluster $KIND_CLUSTER"
  else
    log "creating kind cluster $KIND_CLUSTER (1 control plane, 4 workers in zones a, b, c, d)"
    "$KIND" create cluster --name "$KIND_CLUSTER" --config "$KIND_CONFIG" --wait 5m
  fi
  "$KIND" export kubeconfig --name "$KIND_CLUSTER" --kubeconfig "$KUBECONFIG_PATH"
  CLUSTER_READY=1
  export KUBECONFIG=$KUBECONFIG_PATH
  "$KUBECTL" wait --for=condition=Ready nodes --all --timeout=5m

  log "building $replica_image and $operator_image"
  docker build --file images/replica.Dockerfile --tag "$replica_image" \
    --build-arg "VERSION=$version" --build-arg "REVISION=$revision" .
  docker build --file images/operator.Dockerfile --tag "$operator_image" \
    --build-arg "VERSION=$version" --build-arg "REVISION=$revision" .

  # The same replica under a second tag: the rolling-upgrade test changes spec.image to it.
  local upgraded_replica_image=$replica_image-upgraded
  docker tag "$replica_image" "$upgraded_replica_image"

  log "loading the images into the nodes of $KIND_CLUSTER"
  "$KIND" load docker-image --name "$KIND_CLUSTER" "$replica_image" "$upgraded_replica_image" "$operator_image"

  log "installing the operator with Helm into namespace $OPERATOR_NAMESPACE"
  local installed=0
  "$HELM" status "$RELEASE" --namespace "$OPERATOR_NAMESPACE" >/dev/null 2>&1 && installed=1
  # Helm installs a chart's CRDs only when they are absent and never upgrades them, so a
  # reused cluster gets the current CRD this way.
  "$KUBECTL" apply --server-side --force-conflicts -f crds/
  "$HELM" upgrade --install "$RELEASE" charts/paxos-operator \
    --namespace "$OPERATOR_NAMESPACE" --create-namespace \
    --set "image.tag=$tag" --set image.pullPolicy=IfNotPresent \
    --set "replica.image.tag=$tag" --wait=false
  if ((installed)); then
    # The same tag with new content: restart so that the pods run the image just loaded.
    "$KUBECTL" --namespace "$OPERATOR_NAMESPACE" rollout restart "deployment/$RELEASE"
  fi
  "$KUBECTL" --namespace "$OPERATOR_NAMESPACE" rollout status "deployment/$RELEASE" --timeout=5m

  log "running the e2e suite (PAXOS_E2E_TARGET=kind)"
  PAXOS_E2E_TARGET=kind PAXOS_E2E_REPLICA_IMAGE=$replica_image \
    PAXOS_E2E_UPGRADED_REPLICA_IMAGE=$upgraded_replica_image KUBECONFIG=$KUBECONFIG_PATH \
    "$HACK_DIR/with-node.sh" npx vitest run --project e2e "$@"
}

main "$@"
