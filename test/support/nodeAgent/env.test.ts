import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { containerEnvironment, EnvError, type EnvLookups, expandArgv, expandVariables } from "./env.ts";

const values: Record<string, string> = { POD_NAME: "demo-0", EMPTY: "" };
const lookup = (name: string) => values[name];

describe("expandVariables", () => {
  it("expands defined variables and keeps undefined ones", () => {
    expect(expandVariables("--name=$(POD_NAME)", lookup)).toBe("--name=demo-0");
    expect(expandVariables("$(NOPE)-$(POD_NAME)", lookup)).toBe("$(NOPE)-demo-0");
    expect(expandVariables("x$(EMPTY)y", lookup)).toBe("xy");
  });

  it("treats $$ as an escaped dollar and leaves other dollars alone", () => {
    expect(expandVariables("$$(POD_NAME)", lookup)).toBe("$(POD_NAME)");
    expect(expandVariables("$$$(POD_NAME)", lookup)).toBe("$demo-0");
    expect(expandVariables("$HOME $x $", lookup)).toBe("$HOME $x $");
    expect(expandVariables("$(POD_NAME", lookup)).toBe("$(POD_NAME");
    expect(expandVariables("a$$b", lookup)).toBe("a$b");
  });
});

describe("containerEnvironment", () => {
  const pod: V1Pod = {
    metadata: { name: "demo-0", namespace: "ns", uid: "u-1", labels: { app: "paxos" } },
    spec: { nodeName: "node-2", containers: [] },
  };
  const lookups: EnvLookups = {
    podIP: "10.244.1.5",
    hostIP: "10.244.1.242",
    secret: (namespace, name) => (namespace === "ns" && name === "auth" ? { token: "s3cret" } : undefined),
    configMap: (_namespace, name) => (name === "cfg" ? { MODE: "fast", level: "3" } : undefined),
  };
  const env = (container: Partial<V1Container>) =>
    containerEnvironment(pod, { name: "c", ...container }, lookups);

  it("resolves values, fields, secrets and config maps, in order", () => {
    expect(
      env({
        envFrom: [{ configMapRef: { name: "cfg" }, prefix: "CFG_" }],
        env: [
          { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          { name: "GREETING", value: "hi $(POD_NAME) $(LATER)" },
          { name: "LATER", value: "x" },
          { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
          { name: "HOST", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } },
          { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
          { name: "UID", valueFrom: { fieldRef: { fieldPath: "metadata.uid" } } },
          { name: "NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
          { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: "TOKEN", valueFrom: { secretKeyRef: { name: "auth", key: "token" } } },
          { name: "LEVEL", valueFrom: { configMapKeyRef: { name: "cfg", key: "level" } } },
          { name: "OPT", valueFrom: { secretKeyRef: { name: "missing", key: "k", optional: true } } },
        ],
      }),
    ).toEqual({
      CFG_MODE: "fast",
      CFG_level: "3",
      POD_NAME: "demo-0",
      GREETING: "hi demo-0 $(LATER)",
      LATER: "x",
      IP: "10.244.1.5",
      HOST: "10.244.1.242",
      NODE: "node-2",
      UID: "u-1",
      NS: "ns",
      APP: "paxos",
      TOKEN: "s3cret",
      LEVEL: "3",
    });
  });

  it("fails on a missing secret or key unless optional", () => {
    expect(() =>
      env({ env: [{ name: "A", valueFrom: { secretKeyRef: { name: "nope", key: "k" } } }] }),
    ).toThrow(EnvError);
    expect(() =>
      env({ env: [{ name: "A", valueFrom: { secretKeyRef: { name: "auth", key: "k" } } }] }),
    ).toThrow(/couldn't find key k/);
    expect(() => env({ envFrom: [{ secretRef: { name: "nope" } }] })).toThrow(EnvError);
  });

  it("expands argv from the environment", () => {
    expect(expandArgv(["--name=$(POD_NAME)", "$$(POD_NAME)"], { POD_NAME: "a" })).toEqual([
      "--name=a",
      "$(POD_NAME)",
    ]);
  });
});
