// The peer transport: how replicas carry Paxos envelopes to each other. See
// peerTransport.ts for the guarantees, handshake.ts for the authentication and frames.ts
// for the wire format.
export { checkEnvelope, decodeEnvelope, type EnvelopeCheck } from "./decodeEnvelope.ts";
export {
  defaultTransportLimits,
  InvalidTransportOptionsError,
  type PeerAddress,
  type PeerTransportOptions,
  type TransportLogger,
} from "./options.ts";
export { PeerTransport } from "./peerTransport.ts";
export type { PeerTransportStats } from "./stats.ts";
