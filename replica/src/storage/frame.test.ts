import { describe, expect, it } from "vitest";
import { encodeFrame, frameHeaderBytes, scanFrames, sectorBytes } from "./frame.ts";

const limit = 1 << 20;

function frames(...payloadLengths: number[]): Buffer {
  return Buffer.concat(
    payloadLengths.map((length, index) => encodeFrame(2, Buffer.alloc(length, index + 1))),
  );
}

describe("frames", () => {
  it("round-trips type and payload and reports offsets", () => {
    const bytes = frames(0, 5, 300);
    const scan = scanFrames(bytes, limit);
    expect(scan.end).toEqual({ kind: "clean" });
    expect(scan.validEnd).toBe(bytes.length);
    expect(scan.frames.map((frame) => [frame.type, frame.payload.length, frame.offset])).toEqual([
      [2, 0, 0],
      [2, 5, frameHeaderBytes],
      [2, 300, 2 * frameHeaderBytes + 5],
    ]);
    expect(scan.frames[1]?.payload.every((byte) => byte === 2)).toBe(true);
  });

  it("a file cut anywhere inside the last frame is a torn tail at its start", () => {
    const bytes = frames(10, 40);
    const lastStart = frameHeaderBytes + 10;
    for (let length = lastStart + 1; length < bytes.length; length += 1) {
      const scan = scanFrames(bytes.subarray(0, length), limit);
      expect(scan.end.kind, `length ${length}`).toBe("torn");
      expect(scan.validEnd).toBe(lastStart);
      expect(scan.frames).toHaveLength(1);
    }
  });

  it("a flipped bit anywhere in a frame followed by data is corruption", () => {
    const bytes = frames(10, 40, 10);
    const secondStart = frameHeaderBytes + 10;
    const secondEnd = secondStart + frameHeaderBytes + 40;
    for (let offset = secondStart; offset < secondEnd; offset += 1) {
      for (const bit of [0, 7]) {
        const damaged = Buffer.from(bytes);
        damaged[offset] = (damaged[offset] ?? 0) ^ (1 << bit);
        const scan = scanFrames(damaged, limit);
        expect(scan.end, `offset ${offset} bit ${bit}`).toMatchObject({
          kind: "corrupt",
          offset: secondStart,
        });
        expect(scan.frames).toHaveLength(1);
      }
    }
  });

  it("a flipped bit in the length of the last frame is corruption, even when it points past the end", () => {
    const bytes = frames(10, 40);
    const damaged = Buffer.from(bytes);
    const lengthHighByte = frameHeaderBytes + 10 + 2;
    damaged[lengthHighByte] = (damaged[lengthHighByte] ?? 0) ^ 0x10;
    expect(scanFrames(damaged, limit).end).toMatchObject({ kind: "corrupt" });
  });

  it("a flipped bit in the payload of the last frame is corruption (no zeros explain it)", () => {
    const bytes = frames(10, 40);
    const damaged = Buffer.from(bytes);
    damaged[bytes.length - 5] = (damaged[bytes.length - 5] ?? 0) ^ 1;
    expect(scanFrames(damaged, limit).end).toMatchObject({ kind: "corrupt" });
  });

  it("zeros where the last frames should be are a torn tail (blocks allocated, never written)", () => {
    const bytes = frames(10, 40);
    const withZeros = Buffer.concat([bytes, Buffer.alloc(700)]);
    const scan = scanFrames(withZeros, limit);
    expect(scan.end).toMatchObject({ kind: "torn", offset: bytes.length });
    expect(scan.validEnd).toBe(bytes.length);
  });

  it("a frame whose end was zeroed from a sector boundary is a torn tail", () => {
    const bytes = frames(600, 2000);
    const damaged = Buffer.from(bytes);
    damaged.fill(0, 2 * sectorBytes);
    const scan = scanFrames(damaged, limit);
    expect(scan.end).toMatchObject({ kind: "torn", offset: frameHeaderBytes + 600 });
  });

  it("zeros in the middle followed by data are corruption", () => {
    const bytes = frames(10, 2000, 10);
    const damaged = Buffer.from(bytes);
    damaged.fill(0, sectorBytes, 2 * sectorBytes);
    expect(scanFrames(damaged, limit).end).toMatchObject({ kind: "corrupt", offset: frameHeaderBytes + 10 });
  });

  it("a valid header above the size limit is corruption", () => {
    const bytes = frames(100);
    expect(scanFrames(bytes, 99).end).toMatchObject({ kind: "corrupt", offset: 0 });
  });
});
