import { describe, expect, it } from "vitest";
import {
  clientMac,
  encodeClientHello,
  encodeServerProof,
  macsEqual,
  maxHandshakeFrameBytes,
  maxMemberKeyBytes,
  memberKeyProblem,
  newNonce,
  nonceBytes,
  parseClientHello,
  parseServerProof,
  serverMac,
} from "./handshake.ts";

const secret = Buffer.from("0123456789abcdef0123456789abcdef");

describe("handshake", () => {
  it("round-trips the hello and the proof", () => {
    const clientNonce = newNonce();
    const mac = clientMac(secret, newNonce(), "a#1", clientNonce);
    const hello = encodeClientHello({ clientNonce, mac, clientKey: "a#1" });
    expect(hello.byteLength).toBeLessThanOrEqual(maxHandshakeFrameBytes);
    expect(parseClientHello(hello)).toEqual({ clientNonce, mac, clientKey: "a#1" });
    const proof = encodeServerProof({ mac, serverKey: "b#2" });
    expect(parseServerProof(proof)).toEqual({ mac, serverKey: "b#2" });
  });

  it("binds each MAC to the secret, both nonces and the key", () => {
    const [serverNonce, clientNonce] = [newNonce(), newNonce()];
    const mac = clientMac(secret, serverNonce, "a#1", clientNonce);
    expect(macsEqual(mac, clientMac(secret, serverNonce, "a#1", clientNonce))).toBe(true);
    expect(
      macsEqual(mac, clientMac(Buffer.from("another secret, 16+ bytes"), serverNonce, "a#1", clientNonce)),
    ).toBe(false);
    expect(macsEqual(mac, clientMac(secret, newNonce(), "a#1", clientNonce))).toBe(false);
    expect(macsEqual(mac, clientMac(secret, serverNonce, "a#2", clientNonce))).toBe(false);
    expect(macsEqual(mac, clientMac(secret, serverNonce, "a#1", newNonce()))).toBe(false);
    // The server's MAC over the same inputs differs: neither can be replayed as the other.
    expect(
      macsEqual(
        serverMac(secret, serverNonce, clientNonce, "a#1"),
        clientMac(secret, serverNonce, "a#1", clientNonce),
      ),
    ).toBe(false);
    expect(macsEqual(mac, mac.subarray(0, 31))).toBe(false);
  });

  it("rejects hellos and proofs that are short, not UTF-8 or name no member", () => {
    expect(parseClientHello(Buffer.alloc(2 * nonceBytes))).toBeUndefined();
    expect(parseClientHello(Buffer.concat([Buffer.alloc(64), Buffer.from([0xff, 0xfe])]))).toBeUndefined();
    expect(
      parseClientHello(Buffer.concat([Buffer.alloc(64), Buffer.alloc(maxMemberKeyBytes + 1, 0x61)])),
    ).toBeUndefined();
    expect(parseServerProof(Buffer.alloc(32))).toBeUndefined();
    expect(parseServerProof(Buffer.concat([Buffer.alloc(32), Buffer.from([0xc3])]))).toBeUndefined();
  });

  it("keeps a key's bytes exactly (a leading byte order mark included)", () => {
    const key = "\uFEFFa#1";
    const hello = encodeClientHello({ clientNonce: newNonce(), mac: Buffer.alloc(32), clientKey: key });
    expect(parseClientHello(hello)?.clientKey).toBe(key);
  });

  it("limits member keys", () => {
    expect(memberKeyProblem("a#1")).toBeUndefined();
    expect(memberKeyProblem("")).toMatch(/empty/);
    expect(memberKeyProblem("é".repeat(128))).toMatch(/255 bytes; got 256/);
  });
});
