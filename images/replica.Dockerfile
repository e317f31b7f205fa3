# The replica image: the program in every PaxosCluster pod (replica/src/main.ts), run by
# Node 24 directly from its TypeScript sources (type stripping; there is no build step).
#
#   docker build -f images/replica.Dockerfile -t ghcr.io/paxos-operator/replica:0.1.0 .
#
# The context is the repository root; .dockerignore keeps it to package*.json, .npmrc and
# the sources, without tests. `make images` builds both images with the version of
# package.json as their tag.
#
# Base image: the exact Node release the project is tested on (NODE_VERSION_PINNED in
# hack/node.sh), Debian slim. To bump it, change NODE_VERSION here, in
# images/operator.Dockerfile and in hack/node.sh together (hack/e2e-kind.test.ts checks
# that they agree). To pin the digest as well, append it: node:24.21.0-slim@sha256:<digest>
# (`docker buildx imagetools inspect node:24.21.0-slim` prints it).
ARG NODE_VERSION=24.21.0
ARG NODE_IMAGE=node:${NODE_VERSION}-slim

# Stage 1: the runtime npm packages only, exactly as package-lock.json lists them.
# --ignore-scripts: the only install script of a runtime package is msgpackr-extract's,
# which would try to compile its optional native addon; the prebuilt addon comes as an
# optional package anyway, and msgpackr falls back to JavaScript without it.
FROM ${NODE_IMAGE} AS dependencies
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force

# Stage 2: Node, the runtime packages and the replica's sources; no npm, no dev tools.
FROM ${NODE_IMAGE}
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG NODE_IMAGE
LABEL org.opencontainers.image.title="paxos-replica" \
  org.opencontainers.image.description="A Paxos replica: a linearizable key-value, lock and leader-election service (one member of a PaxosCluster)" \
  org.opencontainers.image.source="https://github.com/paxos-operator/paxos-operator" \
  org.opencontainers.image.licenses="Apache-2.0" \
  org.opencontainers.image.version="${VERSION}" \
  org.opencontainers.image.revision="${REVISION}" \
  org.opencontainers.image.base.name="docker.io/library/${NODE_IMAGE}"
# 65532 is the user the operator runs replicas as (replicaUserId in
# operator/src/builders/statefulSet.ts); named so that tools that look the user up work.
# npm, npx, corepack and yarn are not needed to run, so they are not shipped.
RUN groupadd --system --gid 65532 nonroot \
  && useradd --system --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin nonroot \
  && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /opt/yarn-* \
  && rm -f /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn \
    /usr/local/bin/yarnpkg
WORKDIR /app
ENV NODE_ENV=production
# package.json says "type": "module", which the .ts sources need.
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json ./
COPY replica/src ./replica/src
# Root owns every file and the replica cannot change them; it writes only to its data
# volume and /tmp (the pod's root filesystem is read-only).
USER 65532:65532
# 7000: peer protocol; 8080: HTTP API, probes and metrics (replica/src/config.ts).
EXPOSE 7000 8080
ENTRYPOINT ["node", "replica/src/main.ts"]
