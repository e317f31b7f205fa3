// Static checks of the kind path (hack/e2e-kind.sh, hack/kind/), which needs Docker to
// run: the cluster config is what the e2e suite assumes, its node image is pinned for the
// kind release we build, and the script is valid, strict bash.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const hackDir = resolve(import.meta.dirname);
const read = (path: string) => readFileSync(join(hackDir, path), "utf8");

interface KindNode {
  role: "control-plane" | "worker";
  image?: string;
  labels?: Record<string, string>;
}
interface KindCluster {
  kind: string;
  apiVersion: string;
  name?: string;
  nodes: KindNode[];
}

function pinned(name: string): string {
  const match = new RegExp(`^${name}=(\\S+)$`, "m").exec(read("versions.env"));
  if (match?.[1] === undefined) throw new Error(`hack/versions.env has no ${name}`);
  return match[1];
}

const shellcheck = spawnSync("shellcheck", ["--version"]).status === 0;

describe("hack/kind/cluster.yaml", () => {
  const config = parse(read("kind/cluster.yaml")) as KindCluster;

  it("is a kind v1alpha4 Cluster whose name the script chooses", () => {
    expect(config.kind).toBe("Cluster");
    expect(config.apiVersion).toBe("kind.x-k8s.io/v1alpha4");
    expect(config.name).toBeUndefined();
  });

  it("has one control-plane node and four workers, each in its own zone", () => {
    expect(config.nodes.filter((node) => node.role === "control-plane")).toHaveLength(1);
    const workers = config.nodes.filter((node) => node.role === "worker");
    // Four: the lost-Node e2e test replaces a member on a Node that holds no other member.
    expect(workers).toHaveLength(4);
    const zones = workers.map((node) => node.labels?.["topology.kubernetes.io/zone"]);
    expect(zones.every((zone) => typeof zone === "string" && zone !== "")).toBe(true);
    expect(new Set(zones).size).toBe(4);
  });

  it("pins one node image by digest, of the Kubernetes minor our kubectl speaks", () => {
    const images = new Set(config.nodes.map((node) => node.image));
    expect(images.size).toBe(1);
    const [image] = images;
    const match = /^kindest\/node:v(\d+)\.(\d+)\.\d+@sha256:[0-9a-f]{64}$/.exec(image ?? "");
    expect(match, `${image} must be kindest/node:<version>@sha256:<digest>`).not.toBeNull();
    const kubernetes = /^v(\d+)\.(\d+)\./.exec(pinned("KUBERNETES_VERSION"));
    expect(match?.slice(1, 3)).toEqual(kubernetes?.slice(1, 3));
  });
});

describe("the kind tool", () => {
  it("is built at the version versions.env pins", () => {
    const goMod = read("kind/go.mod");
    expect(goMod).toMatch(/^tool sigs\.k8s\.io\/kind$/m);
    expect(goMod).toContain(`sigs.k8s.io/kind ${pinned("KIND_VERSION")}`);
  });
});

describe("hack/e2e-kind.sh", () => {
  const script = read("e2e-kind.sh");

  it("is strict bash that parses", () => {
    expect(script.startsWith("#!/usr/bin/env bash\n")).toBe(true);
    expect(script).toMatch(/^set -euo pipefail$/m);
    execFileSync("bash", ["-n", join(hackDir, "e2e-kind.sh")]);
  });

  it("creates the cluster from hack/kind/cluster.yaml, runs the kind target and cleans up", () => {
    expect(script).toContain("KIND_CONFIG=$HACK_DIR/kind/cluster.yaml");
    expect(script).toContain("trap finish EXIT");
    expect(script).toContain("PAXOS_E2E_TARGET=kind");
    expect(script).toContain("npx vitest run --project e2e");
  });

  it.skipIf(!shellcheck)("passes shellcheck", () => {
    const result = spawnSync("shellcheck", ["-x", "e2e-kind.sh"], { cwd: hackDir, encoding: "utf8" });
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });
});
