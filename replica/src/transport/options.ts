import type { Envelope } from "../paxos/messages.ts";
import { memberKeyProblem, minSecretBytes } from "./handshake.ts";

/** The part of a pino logger the transport uses; pino's loggers fit it as they are. */
export interface TransportLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  debug(fields: Record<string, unknown>, message: string): void;
}

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

export interface PeerTransportOptions {
  /** This member's key, "name#incarnation" (at most 255 bytes of UTF-8). */
  readonly self: string;
  /** Where to listen; port 0 picks a free port (`start()` says which). */
  readonly host: string;
  readonly port: number;
  /**
   * The address outgoing connections come from. Defaults to `host` unless that is a
   * wildcard, so that a member's traffic is recognizable by its address (network policies,
   * and the tests' iptables partitions between loopback addresses).
   */
  readonly localAddress?: string;
  /** The shared cluster secret, at least 16 bytes. Copied: later changes to the array are ignored. */
  readonly secret: Uint8Array;
  /**
   * Where a member listens, or undefined when unknown (messages to it are then dropped and
   * counted). Called when a connection to the member is about to be dialed, so an address
   * that changes (a rescheduled pod) is picked up at the next reconnect.
   */
  resolve(member: string): PeerAddress | undefined;
  /**
   * Called for every authenticated, well-formed envelope addressed to `self`, in the order
   * its connection delivered it. Exceptions are not caught: a throwing handler is a bug.
   */
  onMessage(envelope: Envelope): void;
  /** Largest frame payload sent or accepted; an envelope that does not fit one is dropped. */
  readonly maxFrameBytes?: number;
  /** Bytes waiting to be written to one peer (ours and the socket's); beyond it, messages are dropped. */
  readonly maxQueuedBytesPerPeer?: number;
  /** Delay before redialing: initial, doubled per failed attempt up to max, then jittered down to half. */
  readonly reconnectBackoffMs?: { readonly initial: number; readonly max: number };
  /** Time from accepting (or dialing) a connection to the end of its handshake. */
  readonly handshakeTimeoutMs?: number;
  /** Incoming connections still in their handshake, at most; more are closed at once. */
  readonly maxPendingHandshakes?: number;
  /** A connection that has written nothing for this long writes a heartbeat frame. */
  readonly heartbeatIntervalMs?: number;
  /** A connection that has read nothing (not even a heartbeat) for this long is closed. */
  readonly idleTimeoutMs?: number;
  readonly logger?: TransportLogger;
}

export const defaultTransportLimits = {
  /** Must hold the largest message the core sends (an accept of full batches, a snapshot). */
  maxFrameBytes: 16 * 1024 * 1024,
  /** Four full frames: a snapshot can wait behind a burst of accepts. */
  maxQueuedBytesPerPeer: 64 * 1024 * 1024,
  reconnectBackoffMs: { initial: 50, max: 2000 },
  handshakeTimeoutMs: 3000,
  maxPendingHandshakes: 64,
  heartbeatIntervalMs: 1000,
  /** Five heartbeats: a peer cut off by a silent partition is redialed within seconds. */
  idleTimeoutMs: 5000,
} as const;

export interface ResolvedTransportOptions {
  readonly self: string;
  readonly host: string;
  readonly port: number;
  readonly localAddress: string | undefined;
  readonly secret: Buffer;
  readonly resolve: (member: string) => PeerAddress | undefined;
  readonly onMessage: (envelope: Envelope) => void;
  readonly maxFrameBytes: number;
  readonly maxQueuedBytesPerPeer: number;
  readonly reconnectBackoffMs: { readonly initial: number; readonly max: number };
  readonly handshakeTimeoutMs: number;
  readonly maxPendingHandshakes: number;
  readonly heartbeatIntervalMs: number;
  readonly idleTimeoutMs: number;
  readonly logger: TransportLogger;
}

/** Options that cannot work (a short secret, a limit that is not a positive integer). */
export class InvalidTransportOptionsError extends Error {
  readonly code = "InvalidTransportOptions";

  constructor(message: string) {
    super(`invalid peer transport options: ${message}`);
    this.name = "InvalidTransportOptionsError";
  }
}

const silentLogger: TransportLogger = { info() {}, warn() {}, debug() {} };

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new InvalidTransportOptionsError(`${name} must be a positive integer; got ${value}`);
  return value;
}

export function resolveTransportOptions(options: PeerTransportOptions): ResolvedTransportOptions {
  if (typeof options.self !== "string") throw new InvalidTransportOptionsError("self must be a member key");
  const keyProblem = memberKeyProblem(options.self);
  if (keyProblem !== undefined) throw new InvalidTransportOptionsError(`self: ${keyProblem}`);
  if (!(options.secret instanceof Uint8Array) || options.secret.byteLength < minSecretBytes)
    throw new InvalidTransportOptionsError(
      `the cluster secret must have at least ${minSecretBytes} bytes; got ${options.secret instanceof Uint8Array ? options.secret.byteLength : "none"}`,
    );
  if (!Number.isSafeInteger(options.port) || options.port < 0 || options.port > 65535)
    throw new InvalidTransportOptionsError(`port must be an integer from 0 to 65535; got ${options.port}`);
  const backoff = options.reconnectBackoffMs ?? defaultTransportLimits.reconnectBackoffMs;
  positiveInteger("reconnectBackoffMs.initial", backoff.initial);
  positiveInteger("reconnectBackoffMs.max", backoff.max);
  if (backoff.max < backoff.initial)
    throw new InvalidTransportOptionsError(
      `reconnectBackoffMs.max (${backoff.max}) must be at least reconnectBackoffMs.initial (${backoff.initial})`,
    );
  const heartbeatIntervalMs = positiveInteger(
    "heartbeatIntervalMs",
    options.heartbeatIntervalMs ?? defaultTransportLimits.heartbeatIntervalMs,
  );
  const idleTimeoutMs = positiveInteger(
    "idleTimeoutMs",
    options.idleTimeoutMs ?? defaultTransportLimits.idleTimeoutMs,
  );
  // Heartbeats go out up to two intervals apart (the timer checks once per interval).
  if (idleTimeoutMs <= 2 * heartbeatIntervalMs)
    throw new InvalidTransportOptionsError(
      `idleTimeoutMs (${idleTimeoutMs}) must exceed twice heartbeatIntervalMs (${heartbeatIntervalMs})`,
    );
  const maxFrameBytes = positiveInteger(
    "maxFrameBytes",
    options.maxFrameBytes ?? defaultTransportLimits.maxFrameBytes,
  );
  // The length prefix is a u32.
  if (maxFrameBytes > 0xffff_ffff)
    throw new InvalidTransportOptionsError(`maxFrameBytes must be below 4 GiB; got ${maxFrameBytes}`);
  return {
    self: options.self,
    host: options.host,
    port: options.port,
    localAddress:
      options.localAddress ?? (["0.0.0.0", "::", ""].includes(options.host) ? undefined : options.host),
    secret: Buffer.from(options.secret),
    resolve: options.resolve,
    onMessage: options.onMessage,
    maxFrameBytes,
    maxQueuedBytesPerPeer: positiveInteger(
      "maxQueuedBytesPerPeer",
      options.maxQueuedBytesPerPeer ?? defaultTransportLimits.maxQueuedBytesPerPeer,
    ),
    reconnectBackoffMs: { initial: backoff.initial, max: backoff.max },
    handshakeTimeoutMs: positiveInteger(
      "handshakeTimeoutMs",
      options.handshakeTimeoutMs ?? defaultTransportLimits.handshakeTimeoutMs,
    ),
    maxPendingHandshakes: positiveInteger(
      "maxPendingHandshakes",
      options.maxPendingHandshakes ?? defaultTransportLimits.maxPendingHandshakes,
    ),
    heartbeatIntervalMs,
    idleTimeoutMs,
    logger: options.logger ?? silentLogger,
  };
}
