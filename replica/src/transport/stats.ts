// Counters are plain numbers: exact up to 2^53, which bytesSent reaches after more than
// 100 days at 1 GB/s (and Prometheus keeps counters as doubles anyway).

export interface PeerTransportStats {
  /** Frames of envelopes (heartbeats and handshakes are not counted), and their bytes with headers. */
  readonly framesSent: number;
  readonly framesReceived: number;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  /** Envelopes given to `send` that never left this member. */
  readonly dropped: {
    /** The peer's queue held `maxQueuedBytesPerPeer`. */
    readonly queueFull: number;
    /** `resolve` did not know the member. */
    readonly unknownPeer: number;
    /** No connection: the peer was being redialed after a failure, the connection broke with
     * the envelope still queued, or the transport was closed. */
    readonly notConnected: number;
    /** The envelope alone exceeds `maxFrameBytes`. */
    readonly tooLarge: number;
  };
  /** Connections closed, or envelopes dropped, because of what a peer sent. */
  readonly rejected: {
    /** A handshake MAC that does not match the secret (either side), or an envelope whose
     * `from` is not the member the connection authenticated (the connection is closed). */
    readonly badAuth: number;
    /** A frame header announcing more than the limit (the connection is closed). */
    readonly oversized: number;
    /** Bytes that are not a handshake message, a msgpack array or valid envelopes (the connection is closed). */
    readonly garbage: number;
    /** An envelope whose `to` is not this member (only that envelope is dropped). */
    readonly wrongDestination: number;
    /** A dialed address answered as a different member than the one dialed (the connection is closed). */
    readonly wrongPeer: number;
    /** A handshake that did not finish within `handshakeTimeoutMs`. */
    readonly handshakeTimeout: number;
    /** An incoming connection over `maxPendingHandshakes`, closed at once. */
    readonly tooManyPending: number;
  };
  /** Authenticated connections now open. */
  readonly connections: { readonly outbound: number; readonly inbound: number };
  /** Per member, the wall-clock time (ms since the epoch) of the last frame or handshake from it. */
  readonly lastContactMs: Readonly<Record<string, number>>;
}

type Mutable<T> = { -readonly [Key in keyof T]: T[Key] extends object ? Mutable<T[Key]> : T[Key] };

export type TransportCounters = Mutable<Omit<PeerTransportStats, "lastContactMs">>;

export function newCounters(): TransportCounters {
  return {
    framesSent: 0,
    framesReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    dropped: { queueFull: 0, unknownPeer: 0, notConnected: 0, tooLarge: 0 },
    rejected: {
      badAuth: 0,
      oversized: 0,
      garbage: 0,
      wrongDestination: 0,
      wrongPeer: 0,
      handshakeTimeout: 0,
      tooManyPending: 0,
    },
    connections: { outbound: 0, inbound: 0 },
  };
}
