// The handshake that opens every peer connection, before any message. Both sides prove
// they hold the cluster secret without sending it, each over a fresh nonce of the other
// side, so a recorded handshake cannot be replayed:
//
//   server → client   challenge: serverNonce (32 bytes)
//   client → server   hello:     clientNonce (32) | clientMac (32) | clientKey (UTF-8)
//                     clientMac = HMAC-SHA256(secret, "paxos-peer-v1" | serverNonce | clientKey | clientNonce)
//   server → client   proof:     serverMac (32) | serverKey (UTF-8)
//                     serverMac = HMAC-SHA256(secret, "paxos-peer-v1 server" | clientNonce | serverNonce | serverKey)
//
// Each message is one frame (frames.ts). Every field but the last has a fixed length, so
// the MAC inputs are unambiguous; the two labels differ so that neither MAC can stand in
// for the other. The server's key tells the client that it reached the member it dialed
// (an address can outlive the incarnation that listened on it).
//
// What this does not do: encrypt, or authenticate each frame after the handshake. An
// attacker on the path could read or alter the stream; against that, the peer protocol
// needs TLS (mutual TLS from the operator's Secret is the other mode DESIGN.md names).
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { frameHeaderBytes } from "./frames.ts";

export const nonceBytes = 32;
export const macBytes = 32;
/** Member keys are "name#incarnation"; 255 bytes leaves room for any Kubernetes pod name. */
export const maxMemberKeyBytes = 255;
/** No handshake frame is longer than this; the reader enforces it until the handshake ends. */
export const maxHandshakeFrameBytes = nonceBytes + macBytes + maxMemberKeyBytes;
export const minSecretBytes = 16;

const clientLabel = Buffer.from("paxos-peer-v1", "utf8");
const serverLabel = Buffer.from("paxos-peer-v1 server", "utf8");
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function newNonce(): Buffer {
  return randomBytes(nonceBytes);
}

function hmac(secret: Uint8Array, parts: readonly Uint8Array[]): Buffer {
  const mac = createHmac("sha256", secret);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

export function clientMac(
  secret: Uint8Array,
  serverNonce: Uint8Array,
  clientKey: string,
  clientNonce: Uint8Array,
): Buffer {
  return hmac(secret, [clientLabel, serverNonce, Buffer.from(clientKey, "utf8"), clientNonce]);
}

export function serverMac(
  secret: Uint8Array,
  clientNonce: Uint8Array,
  serverNonce: Uint8Array,
  serverKey: string,
): Buffer {
  return hmac(secret, [serverLabel, clientNonce, serverNonce, Buffer.from(serverKey, "utf8")]);
}

/** Constant-time comparison, so that response times reveal nothing about the expected MAC. */
export function macsEqual(expected: Uint8Array, received: Uint8Array): boolean {
  return expected.byteLength === received.byteLength && timingSafeEqual(expected, received);
}

/** Why `key` cannot name a member in a handshake, or undefined when it can. */
export function memberKeyProblem(key: string): string | undefined {
  if (key.length === 0) return "a member key must not be empty";
  const bytes = Buffer.byteLength(key, "utf8");
  if (bytes > maxMemberKeyBytes) return `a member key has at most ${maxMemberKeyBytes} bytes; got ${bytes}`;
  return undefined;
}

function decodeMemberKey(bytes: Uint8Array): string | undefined {
  let key: string;
  try {
    key = strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
  return memberKeyProblem(key) === undefined ? key : undefined;
}

export interface ClientHello {
  readonly clientNonce: Uint8Array;
  readonly mac: Uint8Array;
  readonly clientKey: string;
}

export function encodeClientHello(hello: ClientHello): Buffer {
  return Buffer.concat([hello.clientNonce, hello.mac, Buffer.from(hello.clientKey, "utf8")]);
}

export function parseClientHello(payload: Buffer): ClientHello | undefined {
  if (payload.byteLength <= nonceBytes + macBytes) return undefined;
  const clientKey = decodeMemberKey(payload.subarray(nonceBytes + macBytes));
  if (clientKey === undefined) return undefined;
  return {
    clientNonce: payload.subarray(0, nonceBytes),
    mac: payload.subarray(nonceBytes, nonceBytes + macBytes),
    clientKey,
  };
}

export interface ServerProof {
  readonly mac: Uint8Array;
  readonly serverKey: string;
}

export function encodeServerProof(proof: ServerProof): Buffer {
  return Buffer.concat([proof.mac, Buffer.from(proof.serverKey, "utf8")]);
}

export function parseServerProof(payload: Buffer): ServerProof | undefined {
  if (payload.byteLength <= macBytes) return undefined;
  const serverKey = decodeMemberKey(payload.subarray(macBytes));
  if (serverKey === undefined) return undefined;
  return { mac: payload.subarray(0, macBytes), serverKey };
}

/** A frame (header included) carrying one handshake message. */
export function handshakeFrame(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(frameHeaderBytes + payload.byteLength);
  frame.writeUInt32BE(payload.byteLength, 0);
  frame.set(payload, frameHeaderBytes);
  return frame;
}
