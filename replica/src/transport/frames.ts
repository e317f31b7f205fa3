// Frames on a peer connection: `[u32 big-endian payload length][payload]`.
//
// During the handshake a payload is one handshake message (see handshake.ts). After it,
// a payload is a msgpack array of envelopes, and an empty payload (length 0, which is not
// valid msgpack) is a heartbeat that carries nothing.
import { Packr, Unpackr } from "msgpackr";
import { assert } from "../assert.ts";
import type { Envelope } from "../paxos/messages.ts";

export const frameHeaderBytes = 4;

/** Heartbeat: a frame with an empty payload. */
export const heartbeatFrame: Uint8Array = new Uint8Array(frameHeaderBytes);

// Plain msgpack: no record extension (it would make a message depend on what the packer
// sent before, and a lost frame would leave the receiver unable to read the next ones).
const packr = new Packr({ useRecords: false, moreTypes: false, encodeUndefinedAsNil: false });
// `copyBuffers`: decoded byte strings (client requests, snapshots) get their own memory,
// instead of views that would keep a whole socket read buffer alive as long as the log does.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, copyBuffers: true });

/** One envelope as msgpack; a frame payload is an array header followed by such items. */
export function encodeEnvelope(envelope: Envelope): Uint8Array {
  return packr.pack(envelope);
}

/** Bytes of the msgpack header of an array of `count` items. */
export function arrayHeaderBytes(count: number): number {
  if (count < 16) return 1;
  if (count < 0x10000) return 3;
  return 5;
}

function writeArrayHeader(target: Buffer, offset: number, count: number): number {
  if (count < 16) return target.writeUInt8(0x90 | count, offset);
  if (count < 0x10000) return target.writeUInt16BE(count, target.writeUInt8(0xdc, offset));
  return target.writeUInt32BE(count, target.writeUInt8(0xdd, offset));
}

/** A complete frame (header included) whose payload is the array of the given encoded envelopes. */
export function encodeFrame(encodedEnvelopes: readonly Uint8Array[]): Buffer {
  let payloadBytes = arrayHeaderBytes(encodedEnvelopes.length);
  for (const encoded of encodedEnvelopes) payloadBytes += encoded.byteLength;
  const frame = Buffer.allocUnsafe(frameHeaderBytes + payloadBytes);
  frame.writeUInt32BE(payloadBytes, 0);
  let offset = writeArrayHeader(frame, frameHeaderBytes, encodedEnvelopes.length);
  for (const encoded of encodedEnvelopes) {
    frame.set(encoded, offset);
    offset += encoded.byteLength;
  }
  return frame;
}

/**
 * Splits encoded envelopes, in order, into as few frames as fit `maxFrameBytes` of payload
 * each. Every envelope must fit a frame alone (`fitsInFrame`).
 */
export function encodeFrames(encodedEnvelopes: readonly Uint8Array[], maxFrameBytes: number): Buffer[] {
  const frames: Buffer[] = [];
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  for (const encoded of encodedEnvelopes) {
    assert(
      fitsInFrame(encoded.byteLength, maxFrameBytes),
      () => `an envelope of ${encoded.byteLength} bytes does not fit a frame`,
    );
    const grown = arrayHeaderBytes(batch.length + 1) + batchBytes + encoded.byteLength;
    if (batch.length > 0 && grown > maxFrameBytes) {
      frames.push(encodeFrame(batch));
      batch = [];
      batchBytes = 0;
    }
    batch.push(encoded);
    batchBytes += encoded.byteLength;
  }
  if (batch.length > 0) frames.push(encodeFrame(batch));
  return frames;
}

/** Whether an envelope of `encodedBytes` fits a frame on its own. */
export function fitsInFrame(encodedBytes: number, maxFrameBytes: number): boolean {
  return arrayHeaderBytes(1) + encodedBytes <= maxFrameBytes;
}

/** The items of a frame payload, or undefined when it is not a msgpack array (whatever the bytes). */
export function decodeFramePayload(payload: Uint8Array): unknown[] | undefined {
  let value: unknown;
  try {
    // `unpack` reads exactly one value and throws on trailing or missing bytes.
    value = unpackr.unpack(payload);
  } catch {
    return undefined;
  }
  return Array.isArray(value) ? value : undefined;
}

export type FrameRead =
  | { readonly kind: "frame"; readonly payload: Buffer }
  | { readonly kind: "incomplete" }
  /** The header announces more than the limit; the connection cannot be read further. */
  | { readonly kind: "oversized"; readonly length: number };

const incomplete: FrameRead = Object.freeze({ kind: "incomplete" });

/**
 * Reassembles frames from the chunks a socket delivers. It holds at most one frame of
 * `maxFrameBytes` plus what arrived after it in the same chunk: a header announcing more
 * is reported as soon as the header is complete, before any of that payload is buffered.
 */
export class FrameReader {
  /** May change between frames (the handshake uses a small limit, messages a large one). */
  maxFrameBytes: number;
  private chunks: Buffer[] = [];
  /** Bytes already consumed from `chunks[0]`. */
  private headOffset = 0;
  private bufferedBytes = 0;

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  get buffered(): number {
    return this.bufferedBytes;
  }

  push(chunk: Buffer): void {
    if (chunk.byteLength === 0) return;
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.byteLength;
  }

  /** The next complete frame's payload, if any; call until it returns `incomplete`. */
  read(): FrameRead {
    if (this.bufferedBytes < frameHeaderBytes) return incomplete;
    const length = this.peekHeader();
    if (length > this.maxFrameBytes) return { kind: "oversized", length };
    if (this.bufferedBytes < frameHeaderBytes + length) return incomplete;
    this.take(frameHeaderBytes);
    return { kind: "frame", payload: this.take(length) };
  }

  private peekHeader(): number {
    const head = this.chunks[0];
    if (head !== undefined && head.byteLength - this.headOffset >= frameHeaderBytes)
      return head.readUInt32BE(this.headOffset);
    const header = Buffer.alloc(frameHeaderBytes);
    let copied = 0;
    let offset = this.headOffset;
    for (const chunk of this.chunks) {
      copied += chunk.copy(header, copied, offset);
      offset = 0;
      if (copied === frameHeaderBytes) break;
    }
    return header.readUInt32BE(0);
  }

  /** Removes `length` buffered bytes; a view when they lie in one chunk, else a copy. */
  private take(length: number): Buffer {
    this.bufferedBytes -= length;
    const head = this.chunks[0];
    if (head === undefined) return Buffer.alloc(0);
    const available = head.byteLength - this.headOffset;
    if (length <= available) {
      const bytes = head.subarray(this.headOffset, this.headOffset + length);
      this.advance(head, length);
      return bytes;
    }
    const bytes = Buffer.allocUnsafe(length);
    let copied = 0;
    while (copied < length) {
      const chunk = this.chunks[0];
      assert(chunk !== undefined, "frame reader: took more bytes than it buffered");
      const part = Math.min(length - copied, chunk.byteLength - this.headOffset);
      chunk.copy(bytes, copied, this.headOffset, this.headOffset + part);
      copied += part;
      this.advance(chunk, part);
    }
    return bytes;
  }

  private advance(head: Buffer, length: number): void {
    this.headOffset += length;
    if (this.headOffset === head.byteLength) {
      this.chunks.shift();
      this.headOffset = 0;
    }
  }
}
