import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeEnvelope } from "./decodeEnvelope.ts";
import {
  arrayHeaderBytes,
  decodeFramePayload,
  encodeEnvelope,
  encodeFrame,
  encodeFrames,
  FrameReader,
  fitsInFrame,
  frameHeaderBytes,
} from "./frames.ts";
import { sampleMessages } from "./testSupport.ts";

const nil = new Uint8Array([0xc0]);

function readAll(reader: FrameReader): Buffer[] {
  const payloads: Buffer[] = [];
  for (let read = reader.read(); read.kind === "frame"; read = reader.read()) payloads.push(read.payload);
  return payloads;
}

describe("frames", () => {
  it.each([0, 1, 15, 16, 65_535, 65_536])("encodes an array header for %i items", (count) => {
    const frame = encodeFrame(Array.from({ length: count }, () => nil));
    expect(frame.readUInt32BE(0)).toBe(frame.byteLength - frameHeaderBytes);
    expect(frame.byteLength).toBe(frameHeaderBytes + arrayHeaderBytes(count) + count);
    const items = decodeFramePayload(frame.subarray(frameHeaderBytes));
    expect(items).toHaveLength(count);
    expect(items?.every((item) => item === null)).toBe(true);
  });

  it("round-trips envelopes of every message type in one frame", () => {
    const envelopes = Object.values(sampleMessages).map((message) => ({ from: "a#1", to: "b#2", message }));
    const frame = encodeFrame(envelopes.map(encodeEnvelope));
    const items = decodeFramePayload(frame.subarray(frameHeaderBytes)) ?? [];
    expect(items.map(decodeEnvelope)).toEqual(envelopes);
  });

  it("splits a batch into frames that respect the limit, in order", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 60 }),
        fc.integer({ min: 304, max: 2000 }),
        (sizes, maxFrameBytes) => {
          const encoded = sizes.map((size, index) => {
            // A msgpack bin 16 of (size) bytes whose content records its index.
            const item = Buffer.alloc(3 + size, index & 0xff);
            item.writeUInt8(0xc5, 0);
            item.writeUInt16BE(size, 1);
            return item;
          });
          const frames = encodeFrames(encoded, maxFrameBytes);
          const items: unknown[] = [];
          for (const frame of frames) {
            expect(frame.byteLength - frameHeaderBytes).toBeLessThanOrEqual(maxFrameBytes);
            items.push(...(decodeFramePayload(frame.subarray(frameHeaderBytes)) ?? ["undecodable"]));
          }
          expect(items.map((item) => Buffer.from(item as Uint8Array).byteLength)).toEqual(sizes);
          const total = encoded.reduce((sum, item) => sum + item.byteLength, 0);
          // Greedy packing: each frame but the last is more than half full, or holds one item.
          if (frames.length > 1)
            expect(frames.length).toBeLessThanOrEqual(Math.ceil((2 * total) / maxFrameBytes) + 1);
        },
      ),
    );
  });

  it("knows what fits a frame", () => {
    expect(fitsInFrame(99, 100)).toBe(true);
    expect(fitsInFrame(100, 100)).toBe(false);
  });

  it("decodes only msgpack arrays, and never throws on junk", () => {
    expect(decodeFramePayload(new Uint8Array([0x81, 0xa1, 0x61, 0x01]))).toBeUndefined(); // a map
    expect(decodeFramePayload(new Uint8Array([0x91, 0x01, 0x02]))).toBeUndefined(); // trailing bytes
    expect(decodeFramePayload(new Uint8Array([0x92, 0x01]))).toBeUndefined(); // truncated
    expect(decodeFramePayload(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff]))).toBeUndefined(); // 4 G items, no data
    expect(decodeFramePayload(Buffer.alloc(100_000, 0x91))).toBeUndefined(); // nested past the stack
    expect(decodeFramePayload(new Uint8Array([0x91, 0x01]))).toEqual([1]); // and the decoder still works
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const items = decodeFramePayload(bytes);
        expect(items === undefined || Array.isArray(items)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it("reassembles frames from chunks split anywhere", () => {
    const frames = [encodeFrame([nil]), encodeFrame([]), encodeFrame([nil, nil, nil])];
    const stream = Buffer.concat([...frames, Buffer.alloc(4)]); // and a heartbeat (empty payload)
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: stream.byteLength }), { maxLength: 10 }), (cuts) => {
        const reader = new FrameReader(100);
        const points = [0, ...[...cuts].sort((a, b) => a - b), stream.byteLength];
        const payloads: Buffer[] = [];
        for (let index = 1; index < points.length; index += 1) {
          reader.push(stream.subarray(points[index - 1], points[index]));
          payloads.push(...readAll(reader));
        }
        expect(payloads.map((payload) => payload.byteLength)).toEqual([2, 1, 4, 0]);
        expect(reader.buffered).toBe(0);
      }),
    );
  });

  it("reports an oversized frame as soon as its header is in, before buffering it", () => {
    const reader = new FrameReader(1000);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1001, 0);
    reader.push(header.subarray(0, 3));
    expect(reader.read()).toEqual({ kind: "incomplete" });
    reader.push(header.subarray(3));
    expect(reader.read()).toEqual({ kind: "oversized", length: 1001 });
  });

  it("applies a new limit to the next frame", () => {
    const reader = new FrameReader(4);
    reader.push(Buffer.concat([encodeFrame([nil, nil]), encodeFrame(Array.from({ length: 9 }, () => nil))]));
    expect(reader.read()).toMatchObject({ kind: "frame" });
    expect(reader.read()).toEqual({ kind: "oversized", length: 10 });
    reader.maxFrameBytes = 10;
    expect(reader.read()).toMatchObject({ kind: "frame" });
  });
});
