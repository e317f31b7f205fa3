import { createServer, type Server, type Socket } from "node:net";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import type { Envelope, Message } from "../paxos/messages.ts";
import { encodeEnvelope, encodeFrame, FrameReader } from "./frames.ts";
import { encodeServerProof, handshakeFrame, newNonce, parseClientHello } from "./handshake.ts";
import {
  InvalidTransportOptionsError,
  type PeerAddress,
  PeerTransport,
  type PeerTransportOptions,
} from "./index.ts";
import { acceptMessage, RawPeer, sampleMessages, waitFor } from "./testSupport.ts";

const secret = Buffer.from("a cluster secret of 32 bytes....");
const otherSecret = Buffer.from("a different secret, also 32 b...");

/** Every member's address, as its transport reported it; `resolve` reads from here. */
let directory = new Map<string, PeerAddress>();
let cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
  directory = new Map();
});

interface Member {
  readonly key: string;
  readonly transport: PeerTransport;
  readonly received: Envelope[];
  readonly address: PeerAddress;
}

async function startMember(
  key: string,
  host: string,
  options: Partial<Omit<PeerTransportOptions, "self" | "host" | "onMessage">> = {},
): Promise<Member> {
  const received: Envelope[] = [];
  const transport = new PeerTransport({
    self: key,
    host,
    port: 0,
    secret,
    resolve: (member) => directory.get(member),
    onMessage: (envelope) => received.push(envelope),
    reconnectBackoffMs: { initial: 10, max: 50 },
    ...options,
  });
  cleanups.push(() => transport.close());
  const address = await transport.start();
  directory.set(key, address);
  return { key, transport, received, address };
}

const message = (slot: number): Message => ({ ...sampleMessages.accepted, slots: [slot] });
const slotOf = (envelope: Envelope) =>
  envelope.message.type === "accepted" ? envelope.message.slots[0] : -1;
const send = (from: Member, to: Member, slot: number) =>
  from.transport.send({ from: from.key, to: to.key, message: message(slot) });

/** A plain TCP server that records its connections and does whatever `onConnection` says. */
async function rawServer(host: string, onConnection: (socket: Socket) => void = () => {}) {
  const sockets: Socket[] = [];
  const closed = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    socket.on("error", () => {});
    socket.on("close", () => closed.add(socket));
    socket.resume();
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen({ host, port: 0 }, resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no address");
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { sockets, closed, address: { host, port: address.port } };
}

async function rawPeer(address: PeerAddress): Promise<RawPeer> {
  const peer = await RawPeer.connect(address);
  cleanups.push(() => peer.destroy());
  return peer;
}

/** A raw member "x#1" that has passed the handshake with `member`. */
async function authenticatedRawPeer(member: Member, key = "x#1"): Promise<RawPeer> {
  const peer = await rawPeer(member.address);
  await peer.handshake(key, secret, member.key);
  await waitFor(() => member.transport.stats().connections.inbound >= 1, "the inbound connection");
  return peer;
}

function payloadOf(envelopes: readonly Envelope[]): Buffer {
  return encodeFrame(envelopes.map(encodeEnvelope)).subarray(4);
}

/** After an attack on `victim`, it still serves an honest member. */
async function expectStillServing(victim: Member): Promise<void> {
  const honest = await startMember("honest#1", "127.0.0.9");
  // Resent until it arrives, as Paxos does: delivery is at most once, and the victim may
  // still be cleaning up after the attack when the first dial comes in.
  let lastSentMs = 0;
  await waitFor(() => {
    if (victim.received.some((envelope) => envelope.from === honest.key)) return true;
    if (Date.now() - lastSentMs >= 50) {
      send(honest, victim, 4242);
      lastSentMs = Date.now();
    }
    return false;
  }, "delivery from an honest peer");
}

describe("PeerTransport", () => {
  it("carries messages both ways between two members", async () => {
    const a = await startMember("a#1", "127.0.0.1");
    const b = await startMember("b#1", "127.0.0.2");
    expect(b.address.host).toBe("127.0.0.2");
    for (let slot = 0; slot < 10; slot += 1) send(a, b, slot);
    for (let slot = 100; slot < 105; slot += 1) send(b, a, slot);
    await waitFor(() => b.received.length === 10 && a.received.length === 5, "delivery");
    expect(b.received.map(slotOf)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(a.received.map(slotOf)).toEqual([100, 101, 102, 103, 104]);
    expect(b.received[0]).toEqual({ from: "a#1", to: "b#1", message: message(0) });
    const stats = a.transport.stats();
    expect(stats.connections).toEqual({ outbound: 1, inbound: 1 });
    expect(stats.lastContactMs["b#1"]).toBeGreaterThan(Date.now() - 5000);
    expect(stats.framesReceived).toBeGreaterThanOrEqual(1);
    expect(stats.bytesSent).toBe(b.transport.stats().bytesReceived);
    expect(stats.dropped).toEqual({ queueFull: 0, unknownPeer: 0, notConnected: 0, tooLarge: 0 });
  });

  it("carries every message type intact", async () => {
    const a = await startMember("a#1", "127.0.0.1");
    const b = await startMember("b#1", "127.0.0.2");
    const messages = Object.values(sampleMessages);
    for (const sample of messages) a.transport.send({ from: a.key, to: b.key, message: sample });
    await waitFor(() => b.received.length === messages.length, "delivery");
    expect(b.received.map((envelope) => envelope.message)).toEqual(messages);
  });

  it("connects three members all to all", async () => {
    const members = [
      await startMember("a#1", "127.0.0.1"),
      await startMember("b#1", "127.0.0.2"),
      await startMember("c#1", "127.0.0.3"),
    ];
    for (const from of members)
      for (const to of members)
        if (from !== to) for (let slot = 0; slot < 20; slot += 1) send(from, to, slot);
    await waitFor(() => members.every((member) => member.received.length === 40), "delivery");
    for (const member of members) {
      for (const other of members.filter((candidate) => candidate !== member)) {
        const fromOther = member.received.filter((envelope) => envelope.from === other.key).map(slotOf);
        expect(fromOther).toEqual(Array.from({ length: 20 }, (_, slot) => slot));
      }
      expect(member.transport.stats().connections).toEqual({ outbound: 2, inbound: 2 });
    }
  });

  it("batches what is sent in one event-loop turn into one frame", async () => {
    const a = await startMember("a#1", "127.0.0.1");
    const b = await startMember("b#1", "127.0.0.2");
    for (let slot = 0; slot < 1000; slot += 1) send(a, b, slot);
    await waitFor(() => b.received.length === 1000, "the first batch");
    expect(a.transport.stats().framesSent).toBe(1);
    for (let slot = 1000; slot < 1500; slot += 1) send(a, b, slot);
    await waitFor(() => b.received.length === 1500, "the second batch");
    expect(a.transport.stats().framesSent).toBe(2);
    expect(b.transport.stats().framesReceived).toBe(2);
    expect(b.received.map(slotOf)).toEqual(Array.from({ length: 1500 }, (_, slot) => slot));
  });

  it("splits a batch into frames no larger than maxFrameBytes", async () => {
    const a = await startMember("a#1", "127.0.0.1", { maxFrameBytes: 4096 });
    const b = await startMember("b#1", "127.0.0.2", { maxFrameBytes: 4096 });
    for (let slot = 0; slot < 200; slot += 1)
      a.transport.send({ from: a.key, to: b.key, message: acceptMessage(256, slot) });
    await waitFor(() => b.received.length === 200, "delivery");
    const { framesSent, bytesSent } = a.transport.stats();
    expect(framesSent).toBeGreaterThanOrEqual(Math.ceil((200 * 250) / 4096));
    expect(bytesSent / framesSent).toBeLessThanOrEqual(4096 + 4);
    expect(b.received.map((envelope) => envelope.message)).toEqual(
      Array.from({ length: 200 }, (_, slot) => acceptMessage(256, slot)),
    );
  });

  it("delivers later messages once a peer that was down starts (at most once: earlier ones are dropped)", async () => {
    const a = await startMember("a#1", "127.0.0.1");
    // Reserve a port for b, then free it: nothing listens there yet.
    const reserved = await rawServer("127.0.0.4");
    const bAddress = reserved.address;
    await cleanups.pop()?.();
    directory.set("b#1", bAddress);
    a.transport.send({ from: "a#1", to: "b#1", message: message(1) });
    await waitFor(() => a.transport.stats().dropped.notConnected >= 1, "the first message to be dropped");
    const b = await startMember("b#1", "127.0.0.4", { port: bAddress.port });
    await waitFor(() => a.transport.stats().connections.outbound === 1, "the redial");
    send(a, b, 2);
    await waitFor(() => b.received.length === 1, "delivery after the redial");
    expect(b.received.map(slotOf)).toEqual([2]);
  });

  it("reconnects after the peer restarts", async () => {
    const a = await startMember("a#1", "127.0.0.1");
    const b = await startMember("b#1", "127.0.0.5");
    send(a, b, 1);
    await waitFor(() => b.received.length === 1, "the first delivery");
    await b.transport.close();
    await waitFor(() => a.transport.stats().connections.outbound === 0, "the loss to be noticed");
    const restarted = await startMember("b#1", "127.0.0.5", { port: b.address.port });
    await waitFor(() => a.transport.stats().connections.outbound === 1, "the redial");
    send(a, restarted, 2);
    await waitFor(() => restarted.received.length === 1, "delivery after the restart");
    expect(restarted.received.map(slotOf)).toEqual([2]);
  });

  it("keeps an older inbound connection when the same member dials again", async () => {
    // A member may dial this address for another incarnation of this name and hang up when
    // it sees who answers; that must not cut the connection it sends its messages on.
    const b = await startMember("b#1", "127.0.0.2");
    const first = await authenticatedRawPeer(b, "a#1");
    const second = await rawPeer(b.address);
    await second.handshake("a#1", secret, b.key);
    await waitFor(() => b.transport.stats().connections.inbound === 2, "both connections to be open");
    second.socket.destroy();
    await waitFor(() => b.transport.stats().connections.inbound === 1, "the second to close");
    expect(first.closed).toBe(false);
    first.sendFrame(payloadOf([{ from: "a#1", to: "b#1", message: message(7) }]));
    await waitFor(() => b.received.length === 1, "delivery on the older connection");
  });

  it("stops redialing a peer the core no longer sends to", async () => {
    const a = await startMember("a#1", "127.0.0.1", { heartbeatIntervalMs: 20, idleTimeoutMs: 100 });
    const c = await startMember("c#1", "127.0.0.3");
    // b#1's address now belongs to c#1: a removed incarnation whose name was reused.
    directory.set("b#1", c.address);
    a.transport.send({ from: "a#1", to: "b#1", message: message(1) });
    await waitFor(() => a.transport.stats().rejected.wrongPeer >= 1, "the first dial to be refused");
    await new Promise((resolve) => setTimeout(resolve, 400));
    const settled = a.transport.stats().rejected.wrongPeer;
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(a.transport.stats().rejected.wrongPeer).toBe(settled);
    // Sending to it again dials again.
    a.transport.send({ from: "a#1", to: "b#1", message: message(2) });
    await waitFor(() => a.transport.stats().rejected.wrongPeer > settled, "a new dial");
  });

  it("refuses a member with the wrong secret, and both keep running", async () => {
    const a = await startMember("a#1", "127.0.0.1", { secret: otherSecret });
    const b = await startMember("b#1", "127.0.0.2");
    send(a, b, 1);
    send(b, a, 2);
    await waitFor(
      () => a.transport.stats().rejected.badAuth >= 1 && b.transport.stats().rejected.badAuth >= 1,
      "both sides to refuse",
    );
    expect(a.received).toEqual([]);
    expect(b.received).toEqual([]);
    expect(a.transport.stats().connections).toEqual({ outbound: 0, inbound: 0 });
    await expectStillServing(b);
    const c = await startMember("c#1", "127.0.0.3", { secret: otherSecret });
    send(c, a, 3);
    await waitFor(() => a.received.length === 1, "a to serve a member with its secret");
  });

  it("refuses a server that cannot prove the secret, sending it nothing", async () => {
    const a = await startMember("a#1", "127.0.0.1");
    const received: Buffer[] = [];
    const impostor = await rawServer("127.0.0.6", (socket) => {
      const reader = new FrameReader(1 << 20);
      socket.write(handshakeFrame(newNonce()));
      socket.on("data", (chunk: Buffer) => {
        reader.push(chunk);
        for (let read = reader.read(); read.kind === "frame"; read = reader.read()) {
          received.push(read.payload);
          const hello = parseClientHello(read.payload);
          if (hello !== undefined)
            socket.write(handshakeFrame(encodeServerProof({ mac: newNonce(), serverKey: "b#1" })));
        }
      });
    });
    directory.set("b#1", impostor.address);
    a.transport.send({ from: "a#1", to: "b#1", message: message(1) });
    await waitFor(() => a.transport.stats().rejected.badAuth >= 1, "the impostor to be refused");
    expect(received.every((payload) => parseClientHello(payload) !== undefined)).toBe(true);
    expect(a.transport.stats().framesSent).toBe(0);
  });

  it("refuses an address that answers as another member", async () => {
    const a = await startMember("a#1", "127.0.0.1");
    const c = await startMember("c#1", "127.0.0.3");
    directory.set("b#1", c.address);
    a.transport.send({ from: "a#1", to: "b#1", message: message(1) });
    await waitFor(() => a.transport.stats().rejected.wrongPeer >= 1, "the wrong peer to be refused");
    expect(c.received).toEqual([]);
    expect(a.transport.stats().framesSent).toBe(0);
  });

  it("closes a connection that sends garbage instead of a handshake", async () => {
    const b = await startMember("b#1", "127.0.0.2");
    const peer = await rawPeer(b.address);
    peer.sendFrame(Buffer.from("not a hello"));
    await waitFor(() => peer.closed, "the connection to close");
    expect(b.transport.stats().rejected.garbage).toBe(1);
    await expectStillServing(b);
  });

  it("closes a connection that speaks another protocol (an oversized length prefix)", async () => {
    const b = await startMember("b#1", "127.0.0.2");
    const peer = await rawPeer(b.address);
    peer.socket.write("GET / HTTP/1.1\r\nHost: b\r\n\r\n");
    await waitFor(() => peer.closed, "the connection to close");
    expect(b.transport.stats().rejected.oversized).toBe(1);
    await expectStillServing(b);
  });

  it("closes an authenticated connection that announces a frame over maxFrameBytes", async () => {
    const b = await startMember("b#1", "127.0.0.2", { maxFrameBytes: 1 << 20 });
    const peer = await authenticatedRawPeer(b);
    peer.sendFrame(Buffer.alloc(16), 0xffff_ffff);
    await waitFor(() => peer.closed, "the connection to close");
    expect(b.transport.stats().rejected.oversized).toBe(1);
    expect(b.transport.stats().connections.inbound).toBe(0);
    await expectStillServing(b);
  });

  it.each([
    ["random bytes", Buffer.from([0xc1, 0xff, 0x00, 0x13])],
    ["msgpack that is not an array", Buffer.from([0x81, 0xa1, 0x61, 0x01])],
    [
      "an array with a malformed envelope",
      payloadOf([{ from: "x#1", to: "b#1", message: { type: "nope" } as never }]),
    ],
  ])("closes an authenticated connection that sends %s", async (_, payload) => {
    const b = await startMember("b#1", "127.0.0.2");
    const peer = await authenticatedRawPeer(b);
    peer.sendFrame(payload);
    await waitFor(() => peer.closed, "the connection to close");
    expect(b.transport.stats().rejected.garbage).toBe(1);
    expect(b.received).toEqual([]);
    await expectStillServing(b);
  });

  it("survives random bytes, before and after the handshake", async () => {
    const b = await startMember("b#1", "127.0.0.2");
    const blobs = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 80 }), { numRuns: 30, seed: 7 });
    const peers: RawPeer[] = [];
    for (const [index, blob] of blobs.entries()) {
      const peer = index % 2 === 0 ? await rawPeer(b.address) : await authenticatedRawPeer(b, `x#${index}`);
      peer.socket.end(blob);
      peers.push(peer);
    }
    await waitFor(() => peers.every((peer) => peer.closed), "every connection to close");
    expect(b.received).toEqual([]);
    await expectStillServing(b);
  });

  it("counts a truncated frame when the connection ends inside it", async () => {
    const b = await startMember("b#1", "127.0.0.2");
    const peer = await authenticatedRawPeer(b);
    const frame = encodeFrame([encodeEnvelope({ from: "x#1", to: "b#1", message: message(1) })]);
    peer.socket.end(frame.subarray(0, frame.byteLength - 3));
    await waitFor(() => b.transport.stats().connections.inbound === 0, "the connection to close");
    expect(b.transport.stats().rejected.garbage).toBe(1);
    expect(b.received).toEqual([]);
    await expectStillServing(b);
  });

  it("closes a connection whose envelope claims another sender, delivering none of its frame", async () => {
    const b = await startMember("b#1", "127.0.0.2");
    const peer = await authenticatedRawPeer(b, "x#1");
    peer.sendFrame(
      payloadOf([
        { from: "x#1", to: "b#1", message: message(1) },
        { from: "a#1", to: "b#1", message: message(2) },
      ]),
    );
    await waitFor(() => peer.closed, "the connection to close");
    expect(b.transport.stats().rejected.badAuth).toBe(1);
    expect(b.received).toEqual([]);
    await expectStillServing(b);
  });

  it("drops an envelope addressed to another member, and keeps the connection", async () => {
    const b = await startMember("b#1", "127.0.0.2");
    const peer = await authenticatedRawPeer(b, "x#1");
    peer.sendFrame(
      payloadOf([
        { from: "x#1", to: "c#1", message: message(1) },
        { from: "x#1", to: "b#1", message: message(2) },
      ]),
    );
    await waitFor(() => b.received.length === 1, "delivery");
    expect(b.received.map(slotOf)).toEqual([2]);
    expect(b.transport.stats().rejected.wrongDestination).toBe(1);
    expect(peer.closed).toBe(false);
  });

  it("closes a connection that does not finish its handshake in time", async () => {
    const b = await startMember("b#1", "127.0.0.2", { handshakeTimeoutMs: 100 });
    const peer = await rawPeer(b.address);
    await waitFor(() => peer.closed, "the connection to close");
    expect(b.transport.stats().rejected.handshakeTimeout).toBe(1);
    await expectStillServing(b);
  });

  it("refuses connections beyond maxPendingHandshakes", async () => {
    const b = await startMember("b#1", "127.0.0.2", { maxPendingHandshakes: 2 });
    const waiting = [await rawPeer(b.address), await rawPeer(b.address)];
    await waitFor(() => waiting.every((peer) => peer.payloads.length === 1), "two challenges");
    const third = await rawPeer(b.address);
    await waitFor(() => third.closed, "the third connection to close");
    expect(b.transport.stats().rejected.tooManyPending).toBe(1);
    for (const peer of waiting) peer.destroy();
    await expectStillServing(b);
  });

  it("sends heartbeats on idle connections, and closes one that stays silent", async () => {
    const b = await startMember("b#1", "127.0.0.2", { heartbeatIntervalMs: 20, idleTimeoutMs: 150 });
    const peer = await authenticatedRawPeer(b);
    const beating = setInterval(() => peer.sendFrame(new Uint8Array(0)), 20);
    cleanups.push(() => clearInterval(beating));
    // Frames after the challenge and the proof are heartbeats (empty payloads).
    await waitFor(() => peer.payloads.length >= 2 + 10, "ten heartbeats", 5000);
    expect(peer.payloads.slice(2).every((payload) => payload.byteLength === 0)).toBe(true);
    expect(peer.closed).toBe(false);
    clearInterval(beating);
    await waitFor(() => peer.closed, "the silent connection to close");
    expect(b.transport.stats().connections.inbound).toBe(0);
  });

  it("keeps idle members connected with heartbeats", async () => {
    const options = { heartbeatIntervalMs: 20, idleTimeoutMs: 100 };
    const a = await startMember("a#1", "127.0.0.1", options);
    const b = await startMember("b#1", "127.0.0.2", options);
    send(a, b, 1);
    await waitFor(() => b.received.length === 1, "delivery");
    const contact = b.transport.stats().lastContactMs["a#1"] ?? 0;
    // Contact keeps advancing on an idle connection: a's heartbeats arrive.
    await waitFor(() => (b.transport.stats().lastContactMs["a#1"] ?? 0) > contact + 200, "heartbeats", 5000);
    expect(a.transport.stats().connections.outbound).toBe(1);
    expect(a.transport.stats().dropped.notConnected).toBe(0);
    send(a, b, 2);
    await waitFor(() => b.received.length === 2, "delivery on the same connection");
  });

  it("drops and counts what it cannot send", async () => {
    const a = await startMember("a#1", "127.0.0.1", { maxQueuedBytesPerPeer: 4000, maxFrameBytes: 2000 });
    const b = await startMember("b#1", "127.0.0.2");
    a.transport.send({ from: "a#1", to: "nobody#1", message: message(1) });
    a.transport.send({ from: "a#1", to: "b#1", message: acceptMessage(3000, 1) });
    for (let slot = 0; slot < 40; slot += 1)
      a.transport.send({ from: "a#1", to: "b#1", message: acceptMessage(256, slot) });
    const { dropped } = a.transport.stats();
    expect(dropped.unknownPeer).toBe(1);
    expect(dropped.tooLarge).toBe(1);
    expect(dropped.queueFull).toBeGreaterThan(0);
    await waitFor(() => b.received.length === 40 - dropped.queueFull, "delivery of what was queued");
    const encodedBytes = encodeEnvelope({
      from: "a#1",
      to: "b#1",
      message: acceptMessage(256, 0),
    }).byteLength;
    expect(b.received.length).toBe(Math.floor(4000 / encodedBytes));
  });

  it("refuses invalid options with a clear error", () => {
    const base: PeerTransportOptions = {
      self: "a#1",
      host: "127.0.0.1",
      port: 0,
      secret,
      resolve: () => undefined,
      onMessage: () => {},
    };
    expect(() => new PeerTransport({ ...base, secret: new Uint8Array(15) })).toThrow(
      /cluster secret must have at least 16 bytes; got 15/,
    );
    expect(() => new PeerTransport({ ...base, secret: new Uint8Array(15) })).toThrow(
      InvalidTransportOptionsError,
    );
    expect(() => new PeerTransport({ ...base, self: "" })).toThrow(/self/);
    expect(() => new PeerTransport({ ...base, maxFrameBytes: 0 })).toThrow(
      /maxFrameBytes must be a positive integer/,
    );
    expect(() => new PeerTransport({ ...base, port: 70_000 })).toThrow(/port/);
    expect(() => new PeerTransport({ ...base, reconnectBackoffMs: { initial: 100, max: 10 } })).toThrow(
      /max/,
    );
    expect(() => new PeerTransport({ ...base, heartbeatIntervalMs: 100, idleTimeoutMs: 150 })).toThrow(
      /idleTimeoutMs/,
    );
  });

  it("throws for envelopes that are a caller's bug", async () => {
    const a = await startMember("a#1", "127.0.0.1");
    expect(() => a.transport.send({ from: "b#1", to: "c#1", message: message(1) })).toThrow(/from b#1/);
    expect(() => a.transport.send({ from: "a#1", to: "a#1", message: message(1) })).toThrow(
      /addressed to this member/,
    );
  });

  it("starts once, and rejects a port in use", async () => {
    const a = await startMember("a#1", "127.0.0.1");
    expect(await a.transport.start()).toEqual(a.address);
    const clash = new PeerTransport({ ...optionsFor("b#1"), host: "127.0.0.1", port: a.address.port });
    cleanups.push(() => clash.close());
    await expect(clash.start()).rejects.toThrow(/EADDRINUSE/);
  });

  it("closes twice, refuses to start or send afterwards", async () => {
    const a = await startMember("a#1", "127.0.0.1");
    const b = await startMember("b#1", "127.0.0.2");
    send(a, b, 1);
    await waitFor(() => b.received.length === 1, "delivery");
    const first = a.transport.close();
    expect(a.transport.close()).toBe(first);
    await first;
    await a.transport.close();
    expect(a.transport.stats().connections).toEqual({ outbound: 0, inbound: 0 });
    send(a, b, 2);
    expect(a.transport.stats().dropped.notConnected).toBe(1);
    await expect(a.transport.start()).rejects.toThrow(/closed/);
    await waitFor(() => b.transport.stats().connections.inbound === 0, "b to see the connection close");
  });

  it("closes before it started", async () => {
    const transport = new PeerTransport(optionsFor("a#1"));
    await transport.close();
    await transport.close();
  });

  it("closes while a connection is still in its handshake", async () => {
    const a = await startMember("a#1", "127.0.0.1");
    // A server that accepts and never says anything: the dial stays in its handshake.
    const silent = await rawServer("127.0.0.7");
    directory.set("b#1", silent.address);
    a.transport.send({ from: "a#1", to: "b#1", message: message(1) });
    await waitFor(() => silent.sockets.length === 1, "the dial");
    await a.transport.close();
    await waitFor(() => silent.closed.size === 1, "the dial to be abandoned");
    expect(a.transport.stats().dropped.notConnected).toBe(1);
    expect(silent.sockets).toHaveLength(1);
  });
});

function optionsFor(self: string): PeerTransportOptions {
  return { self, host: "127.0.0.1", port: 0, secret, resolve: () => undefined, onMessage: () => {} };
}
