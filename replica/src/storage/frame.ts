// Frames: how every record sits in a file, and how a damaged one is told apart as a torn
// tail (a crash cut the last write short) or corruption (anything else).
//
//   offset 0   u32 LE  payload length in bytes
//   offset 4   u32 LE  CRC-32 of the payload
//   offset 8   u8      record type
//   offset 9   u32 LE  CRC-32 of bytes 0..8 (the header check)
//   offset 13  payload (msgpack)
//
// The header has its own checksum so that a length is trusted before it is used: without
// it, one flipped bit in the length of a record in the middle of the log could point past
// the end of the file and pass for a torn tail, and recovery would silently drop synced
// records (forgotten votes).
import { crc32 } from "node:zlib";
import { assert } from "../assert.ts";

export const frameHeaderBytes = 13;

/**
 * The smallest unit a disk writes atomically. A crash can leave the end of a file as zeros
 * (the file system extended the file but the data blocks never reached the disk); such a
 * zero run starts at a sector boundary.
 */
export const sectorBytes = 512;

export function encodeFrame(type: number, payload: Uint8Array): Buffer {
  assert(Number.isInteger(type) && type >= 1 && type <= 255, `record type ${type} is not a byte`);
  assert(payload.length <= 0xffff_ffff, "payload length does not fit in 32 bits");
  const frame = Buffer.allocUnsafe(frameHeaderBytes + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(crc32(payload), 4);
  frame.writeUInt8(type, 8);
  frame.writeUInt32LE(crc32(frame.subarray(0, 9)), 9);
  frame.set(payload, frameHeaderBytes);
  return frame;
}

export interface Frame {
  readonly type: number;
  /** A view into the scanned buffer. */
  readonly payload: Buffer;
  readonly offset: number;
  readonly end: number;
}

/** How a scan stopped: at the end of the bytes, at a torn tail, or at corruption. */
export type ScanEnd =
  | { readonly kind: "clean" }
  | { readonly kind: "torn"; readonly offset: number; readonly reason: string }
  | { readonly kind: "corrupt"; readonly offset: number; readonly reason: string };

export interface ScanResult {
  /** The valid frames before the first damaged one. */
  readonly frames: readonly Frame[];
  /** Where the valid frames end: the length to truncate a torn file to. */
  readonly validEnd: number;
  readonly end: ScanEnd;
}

/**
 * Reads frames from the start of a file until the first damaged one, and classifies the
 * damage. It is a torn tail only if the damage reaches the end of the file, as a crash
 * during an unsynced write leaves it:
 *  - the file ends inside the frame (inside its header, or after a valid header that
 *    promises more payload than there is), or
 *  - everything from the damaged frame on is zeros, or the file ends in zeros that start at
 *    a sector boundary inside the damaged frame.
 * Anything else (a bad checksum with data after it, a valid header with a length above the
 * limit) is corruption. Whether a torn tail is acceptable depends on the file: only the
 * last log segment may have one.
 */
export function scanFrames(bytes: Buffer, payloadBytesMax: number): ScanResult {
  const frames: Frame[] = [];
  let offset = 0;
  const stop = (end: ScanEnd): ScanResult => ({ frames, validEnd: offset, end });
  while (offset < bytes.length) {
    const remaining = bytes.length - offset;
    if (remaining < frameHeaderBytes) {
      return stop({ kind: "torn", offset, reason: `the file ends ${remaining} bytes into a record header` });
    }
    const header = bytes.subarray(offset, offset + frameHeaderBytes);
    if (crc32(header.subarray(0, 9)) !== header.readUInt32LE(9)) {
      const reason = "the record header fails its checksum";
      return stop(
        zeroTailWithin(bytes, offset, offset + frameHeaderBytes)
          ? { kind: "torn", offset, reason: `${reason} and the file ends in zeros (an unwritten tail)` }
          : { kind: "corrupt", offset, reason },
      );
    }
    const payloadLength = header.readUInt32LE(0);
    if (payloadLength > payloadBytesMax) {
      return stop({
        kind: "corrupt",
        offset,
        reason: `a record header claims ${payloadLength} payload bytes, above the limit of ${payloadBytesMax}`,
      });
    }
    const end = offset + frameHeaderBytes + payloadLength;
    if (end > bytes.length) {
      return stop({
        kind: "torn",
        offset,
        reason: `the file ends ${end - bytes.length} bytes before the end of a ${payloadLength}-byte record`,
      });
    }
    const payload = bytes.subarray(offset + frameHeaderBytes, end);
    if (crc32(payload) !== header.readUInt32LE(4)) {
      const reason = "the record payload fails its checksum";
      return stop(
        zeroTailWithin(bytes, offset, end)
          ? { kind: "torn", offset, reason: `${reason} and the file ends in zeros (an unwritten tail)` }
          : { kind: "corrupt", offset, reason },
      );
    }
    frames.push({ type: header.readUInt8(8), payload, offset, end });
    offset = end;
  }
  return stop({ kind: "clean" });
}

/**
 * True when the file from `damageStart` on is all zeros, or ends in zeros that begin at a
 * sector boundary before `damageEnd`: the damage is explained by blocks never written.
 */
function zeroTailWithin(bytes: Buffer, damageStart: number, damageEnd: number): boolean {
  let zeroStart = bytes.length;
  while (zeroStart > damageStart && bytes[zeroStart - 1] === 0) zeroStart -= 1;
  if (zeroStart === damageStart) return true;
  const sectorStart = Math.ceil(zeroStart / sectorBytes) * sectorBytes;
  return sectorStart < damageEnd && sectorStart < bytes.length;
}
