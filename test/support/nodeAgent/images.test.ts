import { describe, expect, it } from "vitest";
import { containerArgv, imageRepository, resolveImage } from "./images.ts";

describe("images", () => {
  it("strips tags and digests but keeps registry ports", () => {
    expect(imageRepository("ghcr.io/paxos-operator/replica:0.1.0")).toBe("ghcr.io/paxos-operator/replica");
    expect(imageRepository("localhost:5000/app")).toBe("localhost:5000/app");
    expect(imageRepository("localhost:5000/app:1@sha256:abc")).toBe("localhost:5000/app");
    expect(imageRepository("busybox")).toBe("busybox");
  });

  it("resolves exact, repository and default replica images", () => {
    const images = { "x/app:2": { command: ["two"] }, "x/app": { command: ["any"] } };
    expect(resolveImage(images, "x/app:2")?.command).toEqual(["two"]);
    expect(resolveImage(images, "x/app:3")?.command).toEqual(["any"]);
    expect(resolveImage(images, "ghcr.io/paxos-operator/replica:0.1.0")?.command[1]).toMatch(
      /replica\/src\/main\.ts$/,
    );
    expect(resolveImage(images, "nginx:1")).toBeUndefined();
  });

  it("combines command and args like the kubelet", () => {
    const image = { command: ["entry", "-x"], args: ["default"] };
    expect(containerArgv(image, {})).toEqual(["entry", "-x", "default"]);
    expect(containerArgv(image, { args: ["a"] })).toEqual(["entry", "-x", "a"]);
    expect(containerArgv(image, { command: ["c"] })).toEqual(["c"]);
    expect(containerArgv(image, { command: ["c"], args: ["a"] })).toEqual(["c", "a"]);
    expect(containerArgv(undefined, { args: ["a"] })).toBeUndefined();
  });
});
