// The connection this member dials to one peer, and the queue in front of it. Dialed on
// the first envelope to the peer, kept open, redialed after a failure with exponential
// backoff and jitter while the core still sends to it (a peer nobody sends to, such as a
// removed member, goes idle instead). Delivery is at most once: envelopes queued or in flight when a
// connection breaks are lost, never resent (Paxos retries what matters), and envelopes
// sent while the peer is being redialed after a failure are dropped rather than queued,
// so a long outage never ends in a burst of stale messages.
import { connect, type Socket } from "node:net";
import type { TransportContext } from "./context.ts";
import { encodeFrames, FrameReader, heartbeatFrame } from "./frames.ts";
import {
  clientMac,
  encodeClientHello,
  handshakeFrame,
  macsEqual,
  maxHandshakeFrameBytes,
  newNonce,
  nonceBytes,
  parseServerProof,
  serverMac,
} from "./handshake.ts";

type Stage =
  /** No connection and no timer: dialed on the next envelope. */
  | "idle"
  /** Dialing or in the handshake: envelopes are queued. */
  | "connecting"
  | "open"
  /** Waiting to redial after a failure: envelopes are dropped. */
  | "backoff"
  | "closed";

type LogLevel = "debug" | "info" | "warn";

interface Attempt {
  readonly socket: Socket;
  readonly reader: FrameReader;
  readonly clientNonce: Buffer;
  serverNonce: Buffer | undefined;
  readonly finished: Promise<void>;
  readonly handshakeTimer: NodeJS.Timeout;
  remote: string;
}

export class OutboundPeer {
  readonly member: string;
  private readonly context: TransportContext;
  private readonly scheduleFlush: (peer: OutboundPeer) => void;
  private stage: Stage = "idle";
  private attempt: Attempt | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Failed dials (and connections that broke at once) since the last connection that lasted. */
  private failedAttempts = 0;
  private openedAtMs = 0;
  /** Encoded envelopes not yet written, in order. */
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private lastReadMs = 0;
  private lastWriteMs = 0;
  /** When the core last handed this peer an envelope, sent or dropped. */
  private lastWantedMs = Date.now();

  constructor(member: string, context: TransportContext, scheduleFlush: (peer: OutboundPeer) => void) {
    this.member = member;
    this.context = context;
    this.scheduleFlush = scheduleFlush;
  }

  /** Queues one encoded envelope, or drops it (and counts why). */
  enqueue(encoded: Uint8Array): void {
    const { dropped } = this.context.counters;
    this.lastWantedMs = Date.now();
    if (this.stage === "idle" && !this.dial()) {
      dropped.unknownPeer += 1;
      return;
    }
    if (this.stage === "backoff" || this.stage === "closed") {
      dropped.notConnected += 1;
      return;
    }
    const unwritten = this.queuedBytes + (this.attempt?.socket.writableLength ?? 0);
    if (unwritten + encoded.byteLength > this.context.options.maxQueuedBytesPerPeer) {
      dropped.queueFull += 1;
      this.log("debug", "dropped an envelope: the queue is full", { queuedBytes: unwritten });
      return;
    }
    this.queue.push(encoded);
    this.queuedBytes += encoded.byteLength;
    if (this.stage === "open") this.scheduleFlush(this);
  }

  /** Writes everything queued, in as few frames as the frame limit allows. */
  flush(): void {
    const socket = this.attempt?.socket;
    if (this.stage !== "open" || socket === undefined || this.queue.length === 0) return;
    const { counters, options } = this.context;
    for (const frame of encodeFrames(this.queue, options.maxFrameBytes)) {
      socket.write(frame);
      counters.framesSent += 1;
      counters.bytesSent += frame.byteLength;
    }
    this.queue = [];
    this.queuedBytes = 0;
    this.lastWriteMs = Date.now();
  }

  /** Heartbeat and idle check, once per heartbeat interval. */
  tick(nowMs: number): void {
    const socket = this.attempt?.socket;
    if (this.stage !== "open" || socket === undefined) return;
    const { idleTimeoutMs, heartbeatIntervalMs } = this.context.options;
    if (nowMs - this.lastReadMs > idleTimeoutMs) {
      this.fail(`nothing received for ${nowMs - this.lastReadMs} ms`, "info");
      return;
    }
    if (nowMs - this.lastWriteMs >= heartbeatIntervalMs) {
      this.lastWriteMs = nowMs;
      socket.write(heartbeatFrame);
    }
  }

  /** For `PeerTransport.close`: stops for good; resolves once the socket has closed. */
  close(): Promise<void> {
    if (this.stage === "open") this.context.counters.connections.outbound -= 1;
    this.stage = "closed";
    clearTimeout(this.retryTimer);
    this.dropQueue();
    const attempt = this.attempt;
    this.attempt = undefined;
    if (attempt === undefined) return Promise.resolve();
    clearTimeout(attempt.handshakeTimer);
    attempt.socket.destroy();
    return attempt.finished;
  }

  private log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
    this.context.options.logger[level](
      { peer: this.member, remote: this.attempt?.remote, ...fields },
      message,
    );
  }

  /** Starts a connection attempt; false when `resolve` does not know the peer. */
  private dial(): boolean {
    const { options, counters } = this.context;
    const address = options.resolve(this.member);
    if (address === undefined) {
      this.stage = "idle";
      return false;
    }
    let socket: Socket;
    try {
      socket = connect({
        host: address.host,
        port: address.port,
        noDelay: true,
        ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
      });
    } catch (error) {
      // An address `connect` refuses outright (a port out of range): as good as unknown.
      this.log("warn", "cannot dial the address resolved for the peer", {
        address,
        error: error instanceof Error ? error.message : String(error),
      });
      this.stage = "idle";
      return false;
    }
    this.stage = "connecting";
    const attempt: Attempt = {
      socket,
      reader: new FrameReader(maxHandshakeFrameBytes),
      clientNonce: newNonce(),
      serverNonce: undefined,
      finished: new Promise((resolve) => socket.once("close", () => resolve())),
      handshakeTimer: setTimeout(() => {
        if (this.attempt !== attempt) return;
        // A peer that accepted and then stalled is counted; an unreachable address is not.
        if (!socket.connecting) counters.rejected.handshakeTimeout += 1;
        this.fail(`no connection and handshake within ${options.handshakeTimeoutMs} ms`);
      }, options.handshakeTimeoutMs).unref(),
      remote: `${address.host}:${address.port}`,
    };
    this.attempt = attempt;
    let lastError = "";
    socket.on("error", (error) => {
      lastError = error.message;
    });
    socket.on("close", () => {
      if (this.attempt === attempt) this.fail(lastError === "" ? "closed by the peer" : lastError);
    });
    socket.on("data", (chunk: Buffer) => {
      if (this.attempt === attempt) this.onData(attempt, chunk);
    });
    this.log("debug", "dialing peer");
    return true;
  }

  private onData(attempt: Attempt, chunk: Buffer): void {
    const { counters } = this.context;
    this.lastReadMs = Date.now();
    if (this.stage === "open") this.context.noteContact(this.member);
    attempt.reader.push(chunk);
    while (this.attempt === attempt) {
      const read = attempt.reader.read();
      if (read.kind === "incomplete") return;
      if (read.kind === "oversized") {
        counters.rejected.oversized += 1;
        this.fail(
          `a frame header announces ${read.length} bytes, over ${attempt.reader.maxFrameBytes}`,
          "warn",
        );
        return;
      }
      if (this.stage === "open") {
        // After the handshake the server sends nothing but heartbeats.
        if (read.payload.byteLength === 0) continue;
        counters.rejected.garbage += 1;
        this.fail("the peer sent data on a connection it should only read", "warn");
        return;
      }
      if (attempt.serverNonce === undefined) this.onChallenge(attempt, read.payload);
      else this.onProof(attempt, attempt.serverNonce, read.payload);
    }
  }

  private onChallenge(attempt: Attempt, payload: Buffer): void {
    const { options, counters } = this.context;
    if (payload.byteLength !== nonceBytes) {
      counters.rejected.garbage += 1;
      this.fail("the first frame is not a handshake challenge", "warn");
      return;
    }
    attempt.serverNonce = Buffer.from(payload);
    const mac = clientMac(options.secret, attempt.serverNonce, options.self, attempt.clientNonce);
    attempt.socket.write(
      handshakeFrame(encodeClientHello({ clientNonce: attempt.clientNonce, mac, clientKey: options.self })),
    );
  }

  private onProof(attempt: Attempt, serverNonce: Buffer, payload: Buffer): void {
    const { options, counters } = this.context;
    const proof = parseServerProof(payload);
    if (proof === undefined) {
      counters.rejected.garbage += 1;
      this.fail("the second frame is not a handshake proof", "warn");
      return;
    }
    const expected = serverMac(options.secret, attempt.clientNonce, serverNonce, proof.serverKey);
    if (!macsEqual(expected, proof.mac)) {
      counters.rejected.badAuth += 1;
      this.fail("the peer does not hold the cluster secret (or refused ours)", "warn");
      return;
    }
    if (proof.serverKey !== this.member) {
      counters.rejected.wrongPeer += 1;
      this.fail(`the address answers as ${proof.serverKey}`, "warn");
      return;
    }
    clearTimeout(attempt.handshakeTimer);
    this.stage = "open";
    this.openedAtMs = Date.now();
    counters.connections.outbound += 1;
    this.context.noteContact(this.member);
    this.log("info", "connected to peer");
    this.flush();
  }

  /** The attempt or connection is over: drop what it carried and plan the next dial. */
  private fail(reason: string, level: LogLevel = "debug"): void {
    const attempt = this.attempt;
    if (attempt === undefined || (this.stage !== "connecting" && this.stage !== "open")) return;
    const wasOpen = this.stage === "open";
    this.attempt = undefined;
    clearTimeout(attempt.handshakeTimer);
    attempt.socket.destroy();
    this.dropQueue();
    if (wasOpen) this.context.counters.connections.outbound -= 1;
    // A connection that broke soon after it opened counts as a failure too, so that a peer
    // that keeps closing connections at once is redialed at the backoff's pace, not in a loop.
    const lastedMs = Date.now() - this.openedAtMs;
    if (wasOpen && lastedMs >= this.context.options.reconnectBackoffMs.max) this.failedAttempts = 0;
    else this.failedAttempts += 1;
    const delayMs = this.backoffDelayMs();
    // A peer that stays down (or keeps dropping us) is logged once, not at every redial.
    const quiet = this.failedAttempts > 1;
    this.log(
      level === "warn" ? "warn" : quiet ? "debug" : "info",
      wasOpen ? "lost peer connection" : "cannot connect to peer",
      { reason, remote: attempt.remote, redialInMs: delayMs },
    );
    this.stage = "backoff";
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.stage !== "backoff") return;
      // Nothing for this peer lately: it left the configuration (or was replaced by a new
      // incarnation at the same address). Stop dialing until the core sends to it again;
      // a dial that reaches the address's new owner only disturbs it.
      if (Date.now() - this.lastWantedMs > this.context.options.idleTimeoutMs) this.stage = "idle";
      else this.dial();
    }, delayMs).unref();
  }

  /** initial · 2^(failures − 1) (initial after a connection that lasted), at most max, then
   * uniformly from half of that to all of it. */
  private backoffDelayMs(): number {
    const { initial, max } = this.context.options.reconnectBackoffMs;
    const exponent = Math.min(Math.max(this.failedAttempts - 1, 0), 30);
    const ceiling = Math.min(max, initial * 2 ** exponent);
    return Math.max(1, Math.round(ceiling / 2 + (Math.random() * ceiling) / 2));
  }

  private dropQueue(): void {
    this.context.counters.dropped.notConnected += this.queue.length;
    this.queue = [];
    this.queuedBytes = 0;
  }
}
