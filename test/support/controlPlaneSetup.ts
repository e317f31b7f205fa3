// vitest global setup for the "controlplane" project: one control plane per run,
// shared by its test files through `inject("kubeconfigPath")`.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startControlPlane } from "./controlPlane.ts";

declare module "vitest" {
  export interface ProvidedContext {
    kubeconfigPath: string;
    apiServerUrl: string;
    controlPlaneStateDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stateDir = await mkdtemp(join(tmpdir(), "paxos-controlplane-"));
  const keepState = process.env.PAXOS_KEEP_STATE === "1";
  const started = Date.now();
  const controlPlane = await startControlPlane({ stateDir, etcdUnsafeNoFsync: true }).catch(async (error) => {
    console.error(`control plane failed to start; its logs are in ${stateDir}/logs`);
    throw error;
  });
  console.log(
    `control plane ready in ${Date.now() - started} ms at ${controlPlane.apiServerUrl} (state in ${stateDir})`,
  );
  project.provide("kubeconfigPath", controlPlane.kubeconfigPath);
  project.provide("apiServerUrl", controlPlane.apiServerUrl);
  project.provide("controlPlaneStateDir", stateDir);
  return async () => {
    await controlPlane.stop();
    if (keepState) console.log(`kept control plane state in ${stateDir} (PAXOS_KEEP_STATE=1)`);
    else await rm(stateDir, { recursive: true, force: true });
  };
}
