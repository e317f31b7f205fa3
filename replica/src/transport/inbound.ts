// One accepted connection: the server side of the handshake, then a stream of frames
// from one authenticated member. Nothing but the handshake and heartbeats is written back.
import type { Socket } from "node:net";
import { assert } from "../assert.ts";
import type { Envelope } from "../paxos/messages.ts";
import type { TransportContext } from "./context.ts";
import { checkEnvelope } from "./decodeEnvelope.ts";
import { decodeFramePayload, FrameReader, frameHeaderBytes, heartbeatFrame } from "./frames.ts";
import {
  clientMac,
  encodeServerProof,
  handshakeFrame,
  macsEqual,
  maxHandshakeFrameBytes,
  newNonce,
  parseClientHello,
  serverMac,
} from "./handshake.ts";

export interface InboundEvents {
  /** The handshake succeeded: `connection.peer` is set. */
  authenticated(connection: InboundConnection): void;
  /** Called once, whatever closed it; `wasOpen` when it had authenticated. */
  closed(connection: InboundConnection, wasOpen: boolean): void;
}

type Stage = "handshake" | "open" | "closed";
type LogLevel = "debug" | "info" | "warn";

export class InboundConnection {
  /** The authenticated member; undefined during the handshake. */
  peer: string | undefined;
  /** Resolves once the socket has closed. */
  readonly finished: Promise<void>;
  private readonly socket: Socket;
  private readonly context: TransportContext;
  private readonly events: InboundEvents;
  private readonly reader = new FrameReader(maxHandshakeFrameBytes);
  private readonly serverNonce = newNonce();
  private readonly remote: string;
  private stage: Stage = "handshake";
  private handshakeTimer: NodeJS.Timeout | undefined;
  private lastReadMs = Date.now();
  private lastWriteMs = Date.now();

  constructor(socket: Socket, context: TransportContext, events: InboundEvents) {
    this.socket = socket;
    this.context = context;
    this.events = events;
    this.remote = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;
    this.finished = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (error) => this.log("debug", "peer connection error", { error: error.message }));
    socket.on("close", () => {
      if (this.isClosed()) return;
      if (this.endsInsideFrame()) this.close("closed by the peer in the middle of a frame", "warn");
      else this.close("closed by the peer");
    });
    this.handshakeTimer = setTimeout(() => {
      this.context.counters.rejected.handshakeTimeout += 1;
      this.close(`no handshake within ${context.options.handshakeTimeoutMs} ms`, "warn");
    }, context.options.handshakeTimeoutMs);
    this.handshakeTimer.unref();
    this.write(handshakeFrame(this.serverNonce));
  }

  /** Closes the connection (idempotent); resolves once the socket has closed. */
  close(reason: string, level: LogLevel = "debug"): Promise<void> {
    if (this.stage === "closed") return this.finished;
    const wasOpen = this.stage === "open";
    this.stage = "closed";
    clearTimeout(this.handshakeTimer);
    this.socket.destroy();
    this.log(level, "incoming peer connection closed", { reason });
    this.events.closed(this, wasOpen);
    return this.finished;
  }

  /** Heartbeat and idle check, once per heartbeat interval. */
  tick(nowMs: number): void {
    if (this.stage !== "open") return;
    const { idleTimeoutMs, heartbeatIntervalMs } = this.context.options;
    if (nowMs - this.lastReadMs > idleTimeoutMs) {
      const reason = `nothing received for ${nowMs - this.lastReadMs} ms`;
      if (this.endsInsideFrame()) this.close(`${reason}, in the middle of a frame`, "warn");
      else this.close(reason, "info");
      return;
    }
    if (nowMs - this.lastWriteMs >= heartbeatIntervalMs) this.write(heartbeatFrame);
  }

  private log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
    this.context.options.logger[level]({ remote: this.remote, peer: this.peer, ...fields }, message);
  }

  private write(bytes: Uint8Array): void {
    this.lastWriteMs = Date.now();
    this.socket.write(bytes);
  }

  /** A connection that ends with part of a frame unread was sending a truncated frame: counted as garbage. */
  private endsInsideFrame(): boolean {
    if (this.reader.buffered === 0) return false;
    this.context.counters.rejected.garbage += 1;
    return true;
  }

  /** A method, not a field test, so that the compiler does not assume it unchanged across calls. */
  private isClosed(): boolean {
    return this.stage === "closed";
  }

  private onData(chunk: Buffer): void {
    if (this.isClosed()) return;
    this.lastReadMs = Date.now();
    if (this.peer !== undefined) this.context.noteContact(this.peer);
    this.reader.push(chunk);
    // A stage check on every turn: a handler below may have closed the connection (or the transport).
    while (!this.isClosed()) {
      const read = this.reader.read();
      if (read.kind === "incomplete") return;
      if (read.kind === "oversized") {
        this.context.counters.rejected.oversized += 1;
        this.close(
          `a frame header announces ${read.length} bytes, over ${this.reader.maxFrameBytes}`,
          "warn",
        );
        return;
      }
      if (this.stage === "handshake") this.onHello(read.payload);
      else this.onFrame(read.payload);
    }
  }

  private onHello(payload: Buffer): void {
    const { counters, options } = this.context;
    const hello = parseClientHello(payload);
    if (hello === undefined) {
      counters.rejected.garbage += 1;
      this.close("the first frame is not a handshake hello", "warn");
      return;
    }
    const expected = clientMac(options.secret, this.serverNonce, hello.clientKey, hello.clientNonce);
    if (!macsEqual(expected, hello.mac)) {
      counters.rejected.badAuth += 1;
      this.close(`${hello.clientKey} does not hold the cluster secret`, "warn");
      return;
    }
    clearTimeout(this.handshakeTimer);
    this.stage = "open";
    this.peer = hello.clientKey;
    this.reader.maxFrameBytes = options.maxFrameBytes;
    const mac = serverMac(options.secret, hello.clientNonce, this.serverNonce, options.self);
    this.write(handshakeFrame(encodeServerProof({ mac, serverKey: options.self })));
    this.context.noteContact(hello.clientKey);
    this.log("debug", "incoming peer connection authenticated");
    this.events.authenticated(this);
  }

  private onFrame(payload: Buffer): void {
    if (payload.byteLength === 0) return; // a heartbeat
    const { counters, options } = this.context;
    const peer = this.peer;
    assert(peer !== undefined, "an open connection has authenticated its peer");
    const items = decodeFramePayload(payload);
    if (items === undefined) {
      counters.rejected.garbage += 1;
      this.close("a frame that is not a msgpack array", "warn");
      return;
    }
    // The whole frame is checked before any of it is delivered: a peer that sends one bad
    // envelope is broken or hostile, and the rest of what it sent is not trusted either.
    const envelopes: Envelope[] = [];
    for (const item of items) {
      const check = checkEnvelope(item);
      if (!check.ok) {
        counters.rejected.garbage += 1;
        this.close(`a malformed envelope (${check.problem})`, "warn");
        return;
      }
      if (check.envelope.from !== peer) {
        counters.rejected.badAuth += 1;
        this.close(`an envelope claims to come from ${check.envelope.from}`, "warn");
        return;
      }
      envelopes.push(check.envelope);
    }
    counters.framesReceived += 1;
    counters.bytesReceived += frameHeaderBytes + payload.byteLength;
    for (const envelope of envelopes) {
      if (this.isClosed()) return;
      if (envelope.to !== options.self) {
        counters.rejected.wrongDestination += 1;
        this.log("debug", "dropped an envelope addressed to another member", { to: envelope.to });
        continue;
      }
      options.onMessage(envelope);
    }
  }
}
