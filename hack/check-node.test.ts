import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { nodeVersionProblem } from "./check-node.mjs";

describe("check-node", () => {
  it("accepts Node 24 and newer", () => {
    expect(nodeVersionProblem("24.0.0")).toBeUndefined();
    expect(nodeVersionProblem("v26.1.0")).toBeUndefined();
  });

  it("rejects older Node with one line that names the fix", () => {
    const message = nodeVersionProblem("20.20.2");
    expect(message).toContain("needs Node >= 24 (this is v20.20.2)");
    expect(message).toContain("nvm install 24");
    expect(message).not.toContain("\n");
  });

  it("passes silently when run on this Node", async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["hack/check-node.mjs"]);
    expect(stdout + stderr).toBe("");
  });
});
