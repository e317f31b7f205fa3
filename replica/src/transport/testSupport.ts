// Shared by the transport's tests and its benchmark: sample messages, waiting for a
// condition, and a raw peer that speaks the wire protocol byte by byte (to play a broken
// or hostile member).
import { connect, type Socket } from "node:net";
import { Packr } from "msgpackr";
import type { Message, MessageType } from "../paxos/messages.ts";
import { FrameReader } from "./frames.ts";
import {
  clientMac,
  encodeClientHello,
  handshakeFrame,
  macsEqual,
  newNonce,
  parseServerProof,
  serverMac,
} from "./handshake.ts";
import type { PeerAddress } from "./options.ts";

const ballot = { round: 7, proposer: "a#1" };

/** One message of every type, with every optional shape exercised (the record type makes it complete). */
export const sampleMessages: { readonly [Type in MessageType]: Extract<Message, { type: Type }> } = {
  preVote: { type: "preVote", ballot, committedThrough: 12, transfer: false },
  preVoteReply: { type: "preVoteReply", ballot, granted: true, promised: { round: 0, proposer: "" } },
  prepare: { type: "prepare", ballot, fromSlot: 13, transfer: true },
  promise: {
    type: "promise",
    ballot,
    fromSlot: 13,
    committedThrough: 12,
    snapshotIndex: 4,
    accepted: [
      { slot: 13, ballot: { round: 6, proposer: "b#2" }, value: { kind: "noop" } },
      {
        slot: 14,
        ballot: { round: 6, proposer: "b#2" },
        value: {
          kind: "batch",
          timeMs: 1_700_000_000_000,
          requests: [new Uint8Array([1, 2, 3]), new Uint8Array(0)],
        },
      },
      {
        slot: 15,
        ballot,
        value: { kind: "config", timeMs: 1_700_000_000_001, change: { type: "addLearner", member: "d#9" } },
      },
    ],
  },
  reject: { type: "reject", ballot, promised: { round: 9, proposer: "c#3" } },
  accept: {
    type: "accept",
    ballot,
    entries: [
      {
        slot: 16,
        value: { kind: "batch", timeMs: 1_700_000_000_002, requests: [new Uint8Array([255, 0, 7])] },
      },
      {
        slot: 17,
        value: { kind: "config", timeMs: 1_700_000_000_003, change: { type: "promote", member: "d#9" } },
      },
    ],
    commitThrough: 15,
    readRound: 3,
  },
  accepted: {
    type: "accepted",
    ballot,
    slots: [16, 17],
    committedThrough: 15,
    commitSeen: 15,
    readRound: 3,
    uninitialized: false,
  },
  learn: { type: "learn", ballot, entries: [{ slot: 5, value: { kind: "noop" } }] },
  installSnapshot: {
    type: "installSnapshot",
    ballot,
    snapshot: {
      index: 4,
      configuration: { voters: ["a#1", "b#2", "c#3"], learners: ["d#9"], fenced: ["c#3"], evicted: ["e#0"] },
      stateMachine: new Uint8Array([9, 8, 7, 6]),
    },
  },
  timeoutNow: { type: "timeoutNow", ballot },
};

/** An accept of one batch with one request, `bytes` long in msgpack (when `bytes` allows it). */
export function acceptMessage(bytes: number, slot: number): Message {
  const withRequest = (length: number): Message => ({
    type: "accept",
    ballot,
    entries: [
      {
        slot,
        value: {
          kind: "batch",
          timeMs: 1_700_000_000_000 + slot,
          requests: [new Uint8Array(length).fill(slot & 0xff)],
        },
      },
    ],
    commitThrough: slot,
    readRound: 0,
  });
  const size = (length: number) => measuringPackr.pack(withRequest(length)).byteLength;
  let length = Math.max(0, bytes - size(0));
  // A longer request can need a longer byte-string header: correct once.
  length = Math.max(0, length - (size(length) - bytes));
  return withRequest(length);
}

const measuringPackr = new Packr({ useRecords: false });

/** Resolves once `condition` holds, polling; rejects after `timeoutMs` with `what`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A socket to a transport, driven by hand: it records every frame payload it receives. */
export class RawPeer {
  readonly socket: Socket;
  readonly payloads: Buffer[] = [];
  closed = false;
  private readonly reader = new FrameReader(1 << 20);

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.reader.push(chunk);
      for (let read = this.reader.read(); read.kind === "frame"; read = this.reader.read())
        this.payloads.push(read.payload);
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
    });
  }

  static async connect(address: PeerAddress): Promise<RawPeer> {
    const socket = connect({ host: address.host, port: address.port });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("error", reject);
    });
    return new RawPeer(socket);
  }

  /** Completes the client side of the handshake as `key`; throws unless the server proves itself. */
  async handshake(key: string, secret: Uint8Array, serverKey: string): Promise<void> {
    await waitFor(() => this.payloads.length >= 1, "the handshake challenge");
    const serverNonce = this.payloads[0] ?? Buffer.alloc(0);
    const clientNonce = newNonce();
    const mac = clientMac(secret, serverNonce, key, clientNonce);
    this.socket.write(handshakeFrame(encodeClientHello({ clientNonce, mac, clientKey: key })));
    await waitFor(() => this.payloads.length >= 2 || this.closed, "the handshake proof");
    const proof = parseServerProof(this.payloads[1] ?? Buffer.alloc(0));
    if (proof === undefined || proof.serverKey !== serverKey) throw new Error("no valid server proof");
    if (!macsEqual(serverMac(secret, clientNonce, serverNonce, serverKey), proof.mac))
      throw new Error("the server proof does not verify");
  }

  /** Writes a frame with `payload` (or, with `announcedBytes`, a header that lies about its length). */
  sendFrame(payload: Uint8Array, announcedBytes = payload.byteLength): void {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(announcedBytes, 0);
    this.socket.write(Buffer.concat([header, payload]));
  }

  destroy(): void {
    this.socket.destroy();
  }
}
