# paxos-operator: the commands people type. `make help` lists them.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# Every Node command runs on the project's Node (>= 24), fetched into the tool cache
# when the machine's is older (hack/node.sh).
WITH_NODE := hack/with-node.sh
NPM := $(WITH_NODE) npm
NPX := $(WITH_NODE) npx
REPORTS := .reports
# Simulation seeds: `make sim SEEDS=N START=S`; `make test` runs TEST_SEEDS of them.
SEEDS ?= 100
START ?= 1
TEST_SEEDS ?= 500
BENCH_SECONDS ?= 5

##@ General

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} \
	  /^[a-zA-Z0-9_-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } \
	  /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: setup
setup: node_modules/.package-lock.json ## Fetch Node 24 if needed and install npm packages (npm ci).

node_modules/.package-lock.json: package.json package-lock.json
	@echo "==> installing npm packages (npm ci)"
	@$(NPM) ci --no-audit --no-fund
	@touch $@

.PHONY: build
build: setup ## Type-check all TypeScript (sources run directly on Node 24; nothing to emit).
	@echo "==> type-checking (tsc --noEmit)"
	@$(NPX) tsc -p tsconfig.json --noEmit

.PHONY: lint
lint: setup ## Lint and check formatting (Biome) and Go code (gofmt, go vet).
	@echo "==> linting TypeScript (biome check)"
	@$(NPX) biome check .
	@echo "==> linting Go (gofmt, go vet in hack/lincheck)"
	@unformatted="$$(gofmt -l hack)"; if [ -n "$$unformatted" ]; then echo "gofmt: run 'gofmt -w hack' for: $$unformatted"; exit 1; fi
	@cd hack/lincheck && go vet ./...

.PHONY: format
format: setup ## Rewrite files into the project's format.
	@$(NPX) biome check --write .
	@gofmt -w hack

.PHONY: test
test: setup tools lint build ## Run every test tier that runs here (unit, control plane, checker) and print one summary line.
	@mkdir -p $(REPORTS)
	@rm -f $(REPORTS)/vitest.json $(REPORTS)/lincheck.jsonl $(REPORTS)/sim.json
	@echo "==> go test (hack/lincheck)"
	@status=0; \
	  (cd hack/lincheck && go test -json ./... > ../../$(REPORTS)/lincheck.jsonl) || status=1; \
	  echo "==> vitest (unit, process, controlplane, e2e)"; \
	  $(NPM) test -- --reporter=default --reporter=json --outputFile.json=$(REPORTS)/vitest.json || status=1; \
	  echo "==> simulation: $(TEST_SEEDS) seeds"; \
	  $(WITH_NODE) node test/sim/run.ts --seeds $(TEST_SEEDS) --start 1 --report $(REPORTS)/sim.json || status=1; \
	  $(WITH_NODE) node hack/test-summary.mjs --vitest $(REPORTS)/vitest.json --go $(REPORTS)/lincheck.jsonl \
	    --sim $(REPORTS)/sim.json || status=1; \
	  exit $$status

.PHONY: test-unit
test-unit: setup ## Run only the unit tests (no control plane; builds only the checker).
	@hack/tools.sh lincheck
	@$(NPM) run test:unit

.PHONY: e2e
e2e: setup tools ## Run the end-to-end suite on a local cluster (control plane, node agent, operator; needs root); prints the times it measures.
	@$(NPM) run test:e2e

.PHONY: sim
sim: setup ## Run SEEDS simulated clusters from seed START under faults; ends "sim: N seeds, V violations, L linearizable".
	@hack/tools.sh lincheck
	@$(WITH_NODE) node test/sim/run.ts --seeds $(SEEDS) --start $(START)

.PHONY: test-controlplane
test-controlplane: setup tools ## Run only the suites against a real control plane.
	@$(NPM) run test:controlplane

.PHONY: mutation
mutation: setup ## Mutation-test the Paxos core with Stryker (unit tests + a short simulation); prints the score.
	@hack/tools.sh lincheck
	@$(NPX) stryker run

##@ Tools

.PHONY: tools
tools: ## Build etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, helm and lincheck from Go modules (cached).
	@hack/tools.sh

##@ Run

.PHONY: demo
demo: setup tools ## A local Kubernetes (control plane, 3 nodes running pods as processes), the operator and the sample PaxosCluster, followed until Ready; Ctrl-C stops it all.
	@$(WITH_NODE) node test/support/demo.ts

.PHONY: bench
bench: setup tools ## Write throughput and p50/p99 latency at 1, 16 and 64 clients, paxos-operator against etcd, one JSON line each.
	@$(WITH_NODE) node test/bench/writes.ts --seconds $(BENCH_SECONDS)
	@$(WITH_NODE) node replica/src/storage/bench.ts
	@$(WITH_NODE) node replica/src/transport/bench.ts

.PHONY: run-operator
run-operator: setup ## Run the operator against the cluster in KUBECONFIG (apply crds/ first); Ctrl-C stops it.
	@test -n "$${KUBECONFIG:-}" || { echo "set KUBECONFIG (for the demo control plane: export KUBECONFIG=$$PWD/.demo/kubeconfig)"; exit 2; }
	@$(WITH_NODE) node operator/src/main.ts

.PHONY: cluster
cluster: setup ## Run three replicas on 127.0.10.x (no Kubernetes), print endpoints and a paxosctl example; Ctrl-C stops them.
	@$(WITH_NODE) node test/support/cluster.ts

.PHONY: clean
clean: ## Remove build outputs, npm packages and demo state (keeps the tool cache; see clean-cache).
	rm -rf node_modules bin .demo .cluster $(REPORTS) .stryker-tmp

.PHONY: clean-cache
clean-cache: ## Remove the cached tools and Node (the next `make tools` rebuilds them from scratch).
	rm -rf "$${PAXOS_CACHE_DIR:-$${XDG_CACHE_HOME:-$$HOME/.cache}/paxos-operator}"

##@ Kubernetes in Docker

# Image tags default to the version in package.json: `make images IMAGE_TAG=dev` overrides it.
IMAGE_TAG ?= $(shell sed -n 's/^  "version": "\(.*\)",$$/\1/p' package.json)
IMAGE_REGISTRY ?= ghcr.io/paxos-operator

.PHONY: images
images: ## Build the replica and operator images (docker build) as ghcr.io/paxos-operator/<name>:<package.json version>.
	@command -v docker >/dev/null 2>&1 || { echo "docker not found: install Docker to build the images (https://docs.docker.com/engine/install/)"; exit 2; }
	@for name in replica operator; do \
	  echo "==> building $(IMAGE_REGISTRY)/$$name:$(IMAGE_TAG)"; \
	  docker build --file images/$$name.Dockerfile --tag $(IMAGE_REGISTRY)/$$name:$(IMAGE_TAG) \
	    --build-arg VERSION=$(IMAGE_TAG) --build-arg REVISION="$$(git rev-parse HEAD 2>/dev/null || echo unknown)" . ; \
	done

.PHONY: helm-lint
helm-lint: ## Lint the Helm chart (charts/paxos-operator) with helm lint --strict.
	@hack/tools.sh helm
	@bin/helm lint --strict charts/paxos-operator

.PHONY: e2e-kind
e2e-kind: setup ## Run the e2e suite on a kind cluster (needs Docker): build and load the images, helm install, test; KEEP_CLUSTER=1 keeps it.
	@IMAGE_TAG=$(IMAGE_TAG) hack/e2e-kind.sh
