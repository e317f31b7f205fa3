// Static checks of the Helm chart (charts/paxos-operator) against the files it must agree
// with; test/controlplane/chart.test.ts renders and installs it with helm.
import { lstatSync, readFileSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { paxosClusterDefaults } from "../operator/src/builders/paxosCluster.ts";
import { replicaUserId } from "../operator/src/builders/statefulSet.ts";
import { parseOperatorArgs } from "../operator/src/main.ts";

const root = resolve(import.meta.dirname, "..");
const chartDir = join(root, "charts/paxos-operator");
const read = (path: string) => readFileSync(join(root, path), "utf8");

interface Values {
  replicaCount: number;
  image: { repository: string; tag: string; pullPolicy: string };
  replica: { image: { repository: string; tag: string } };
  leaderElection: { enabled: boolean };
  metrics: { port: number; serviceMonitor: { enabled: boolean } };
  podSecurityContext: { runAsUser: number; runAsGroup: number; runAsNonRoot: boolean };
  securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean };
}

describe("the Helm chart", () => {
  const chart = parse(read("charts/paxos-operator/Chart.yaml")) as { appVersion: string; version: string };
  const values = parse(read("charts/paxos-operator/values.yaml")) as Values;
  const packageVersion = (JSON.parse(read("package.json")) as { version: string }).version;

  it("ships the CRD of crds/, byte for byte", () => {
    const inChart = join(chartDir, "crds/paxos.dev_paxosclusters.yaml");
    // A symbolic link to crds/paxos.dev_paxosclusters.yaml, so the two cannot drift apart;
    // helm follows it (and `helm package` stores the file's content).
    expect(lstatSync(inChart).isSymbolicLink()).toBe(true);
    expect(realpathSync(inChart)).toBe(realpathSync(join(root, "crds/paxos.dev_paxosclusters.yaml")));
    expect(readFileSync(inChart)).toEqual(readFileSync(join(root, "crds/paxos.dev_paxosclusters.yaml")));
  });

  it("reads its ClusterRole's rules from config/rbac/role.yaml", () => {
    // A link again: templates/clusterrole.yaml renders the rules of files/role.yaml.
    const inChart = join(chartDir, "files/role.yaml");
    expect(lstatSync(inChart).isSymbolicLink()).toBe(true);
    expect(realpathSync(inChart)).toBe(realpathSync(join(root, "config/rbac/role.yaml")));
    expect(read("charts/paxos-operator/templates/clusterrole.yaml")).toContain(
      '.Files.Get "files/role.yaml" | fromYaml',
    );
  });

  it("has the operator's version as appVersion, and the images' tags default to it", () => {
    expect(chart.appVersion).toBe(packageVersion);
    expect(values.image.tag).toBe("");
    expect(values.replica.image.tag).toBe("");
    // The replica image the CRD defaults spec.image to is this repository at this version.
    expect(paxosClusterDefaults.image).toBe(`${values.replica.image.repository}:${chart.appVersion}`);
  });

  it("runs two operators with leader election on the operator's metrics port", () => {
    expect(values.replicaCount).toBe(2);
    expect(values.leaderElection.enabled).toBe(true);
    expect(values.metrics.port).toBe(parseOperatorArgs([]).metricsPort);
    expect(values.metrics.serviceMonitor.enabled).toBe(false);
  });

  it("runs the operator as the images' non-root user with a read-only root filesystem", () => {
    expect(values.podSecurityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: replicaUserId,
      runAsGroup: replicaUserId,
    });
    expect(values.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
  });
});
