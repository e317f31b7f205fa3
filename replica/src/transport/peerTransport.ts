// The peer transport: envelopes between replicas over persistent, authenticated TCP
// connections. Each member dials one connection to every peer it sends to and only writes
// to it; it reads what its peers send on the connections they dialed. So a pair of members
// talks over two connections, one each way, and neither side ever waits on the other.
//
// Guarantees: at most once, in order within one connection, nothing across reconnects.
// `send` never blocks and never throws for network reasons: what cannot go out is dropped
// and counted in `stats().dropped`. Whatever arrives, the worst a peer can do is get its
// connection closed (and counted in `stats().rejected`).
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { assert } from "../assert.ts";
import type { Envelope } from "../paxos/messages.ts";
import type { TransportContext } from "./context.ts";
import { encodeEnvelope, fitsInFrame } from "./frames.ts";
import { InboundConnection } from "./inbound.ts";
import {
  type PeerAddress,
  type PeerTransportOptions,
  type ResolvedTransportOptions,
  resolveTransportOptions,
} from "./options.ts";
import { OutboundPeer } from "./outbound.ts";
import { newCounters, type PeerTransportStats } from "./stats.ts";

export class PeerTransport {
  private readonly options: ResolvedTransportOptions;
  private readonly counters = newCounters();
  private readonly lastContactMs = new Map<string, number>();
  private readonly context: TransportContext;
  private readonly server: Server;
  /** Outbound side, one per member sent to. */
  private readonly peers = new Map<string, OutboundPeer>();
  /** Accepted connections still in their handshake. Invariant: size <= maxPendingHandshakes. */
  private readonly pendingInbound = new Set<InboundConnection>();
  /** Authenticated accepted connections: one per member, the latest (a peer that redials replaces its old one). */
  /**
   * Open inbound connections by the member that dialed. More than one per member is fine
   * (each only delivers): a member can dial this address for another incarnation of this
   * name and hang up once it sees who answers, and closing its live connection then would
   * cut the messages it sends here. Dead ones close by their idle timeout.
   */
  private readonly inbound = new Map<string, Set<InboundConnection>>();
  /** Peers with envelopes queued in this event-loop turn, written together in one frame each. */
  private readonly peersToFlush = new Set<OutboundPeer>();
  private flushImmediate: NodeJS.Immediate | undefined;
  private readonly heartbeatTimer: NodeJS.Timeout;
  private listening: Promise<PeerAddress> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: PeerTransportOptions) {
    this.options = resolveTransportOptions(options);
    this.context = {
      options: this.options,
      counters: this.counters,
      noteContact: (member) => this.lastContactMs.set(member, Date.now()),
    };
    this.server = createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 10_000 });
    this.server.on("connection", (socket) => this.accept(socket));
    this.heartbeatTimer = setInterval(() => this.tick(), this.options.heartbeatIntervalMs).unref();
  }

  /** Listens for peers; resolves with the address bound (the port, when 0 was asked for). */
  start(): Promise<PeerAddress> {
    if (this.closing !== undefined) return Promise.reject(new Error("the peer transport is closed"));
    this.listening ??= new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.server.once("error", onError);
      this.server.listen({ host: this.options.host, port: this.options.port }, () => {
        this.server.off("error", onError);
        this.server.on("error", (error) =>
          this.options.logger.warn({ error: error.message }, "peer transport server error"),
        );
        const address = this.server.address() as AddressInfo;
        this.options.logger.info({ host: address.address, port: address.port }, "peer transport listening");
        resolve({ host: address.address, port: address.port });
      });
    });
    return this.listening;
  }

  /**
   * Queues `envelope` for its destination; it leaves with everything else queued in this
   * event-loop turn, in one frame. Throws only for a caller's bug: an envelope that is not
   * from this member, or is addressed to it.
   */
  send(envelope: Envelope): void {
    const { self } = this.options;
    assert(envelope.from === self, () => `send: an envelope from ${envelope.from}, but this is ${self}`);
    assert(envelope.to !== self, () => `send: an envelope addressed to this member (${self})`);
    if (this.closing !== undefined) {
      this.counters.dropped.notConnected += 1;
      return;
    }
    const encoded = encodeEnvelope(envelope);
    if (!fitsInFrame(encoded.byteLength, this.options.maxFrameBytes)) {
      this.counters.dropped.tooLarge += 1;
      this.options.logger.warn(
        { peer: envelope.to, type: envelope.message.type, bytes: encoded.byteLength },
        `dropped a message larger than maxFrameBytes (${this.options.maxFrameBytes})`,
      );
      return;
    }
    let peer = this.peers.get(envelope.to);
    if (peer === undefined) {
      peer = new OutboundPeer(envelope.to, this.context, (dirty) => this.scheduleFlush(dirty));
      this.peers.set(envelope.to, peer);
    }
    peer.enqueue(encoded);
  }

  stats(): PeerTransportStats {
    const { counters } = this;
    return {
      framesSent: counters.framesSent,
      framesReceived: counters.framesReceived,
      bytesSent: counters.bytesSent,
      bytesReceived: counters.bytesReceived,
      dropped: { ...counters.dropped },
      rejected: { ...counters.rejected },
      connections: { ...counters.connections },
      lastContactMs: Object.fromEntries(this.lastContactMs),
    };
  }

  /** Closes every connection and the listener; safe to call twice (both calls get the same promise). */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    clearImmediate(this.flushImmediate);
    this.peersToFlush.clear();
    const sockets: Promise<void>[] = [];
    for (const peer of this.peers.values()) sockets.push(peer.close());
    for (const connection of [
      ...this.pendingInbound,
      ...[...this.inbound.values()].flatMap((set) => [...set]),
    ])
      sockets.push(connection.close("the transport is closing"));
    // A listen still in progress would otherwise finish after close() and keep the port.
    const wasListening = await this.listening?.then(
      () => true,
      () => false,
    );
    const serverClosed = wasListening
      ? new Promise<void>((resolve) => this.server.close(() => resolve()))
      : Promise.resolve();
    await Promise.all([...sockets, serverClosed]);
    this.options.logger.info({}, "peer transport closed");
  }

  private scheduleFlush(peer: OutboundPeer): void {
    this.peersToFlush.add(peer);
    this.flushImmediate ??= setImmediate(() => {
      this.flushImmediate = undefined;
      const peers = [...this.peersToFlush];
      this.peersToFlush.clear();
      for (const dirty of peers) dirty.flush();
    });
  }

  private accept(socket: Socket): void {
    if (this.closing !== undefined) {
      socket.destroy();
      return;
    }
    if (this.pendingInbound.size >= this.options.maxPendingHandshakes) {
      this.counters.rejected.tooManyPending += 1;
      this.options.logger.warn(
        { remote: `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}` },
        `refused a connection: ${this.options.maxPendingHandshakes} are already in their handshake`,
      );
      socket.destroy();
      return;
    }
    const connection = new InboundConnection(socket, this.context, {
      authenticated: (authenticated) => this.onAuthenticated(authenticated),
      closed: (closed, wasOpen) => this.onInboundClosed(closed, wasOpen),
    });
    this.pendingInbound.add(connection);
  }

  private onAuthenticated(connection: InboundConnection): void {
    const { peer } = connection;
    assert(peer !== undefined, "an authenticated connection names its peer");
    this.pendingInbound.delete(connection);
    this.counters.connections.inbound += 1;
    const connections = this.inbound.get(peer) ?? new Set<InboundConnection>();
    connections.add(connection);
    this.inbound.set(peer, connections);
  }

  private onInboundClosed(connection: InboundConnection, wasOpen: boolean): void {
    this.pendingInbound.delete(connection);
    if (!wasOpen) return;
    this.counters.connections.inbound -= 1;
    const connections = connection.peer === undefined ? undefined : this.inbound.get(connection.peer);
    connections?.delete(connection);
    if (connection.peer !== undefined && connections?.size === 0) this.inbound.delete(connection.peer);
  }

  private tick(): void {
    const nowMs = Date.now();
    for (const peer of this.peers.values()) peer.tick(nowMs);
    for (const connections of [...this.inbound.values()])
      for (const connection of [...connections]) connection.tick(nowMs);
  }
}
