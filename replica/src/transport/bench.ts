// Throughput of the peer transport on loopback: one member streams 256-byte accept
// messages to another for about three seconds, and the receiver counts what arrives.
// Prints one JSON line. Run: `hack/with-node.sh node replica/src/transport/bench.ts`
// (optional arguments: seconds, message bytes).
//
// The sender keeps at most `windowMessages` in flight (sent, not yet received), the way a
// leader's bounded pipeline does; without a window it would only measure how fast the
// queue limit drops messages.
import type { Envelope } from "../paxos/messages.ts";
import { encodeEnvelope } from "./frames.ts";
import { type PeerAddress, PeerTransport } from "./index.ts";
import { acceptMessage } from "./testSupport.ts";

const durationSeconds = Number(process.argv[2] ?? 3);
const messageBytes = Number(process.argv[3] ?? 256);
const windowMessages = 20_000;
const messagesPerTurn = 2_000;

const secret = new TextEncoder().encode("benchmark secret, 32 bytes long.");
const addresses = new Map<string, PeerAddress>();
let received = 0;

function member(self: string, host: string, onMessage: (envelope: Envelope) => void): PeerTransport {
  return new PeerTransport({
    self,
    host,
    port: 0,
    secret,
    resolve: (peer) => addresses.get(peer),
    onMessage,
  });
}

const sender = member("sender#1", "127.0.0.1", () => {});
const receiver = member("receiver#1", "127.0.0.2", () => {
  received += 1;
});
addresses.set("sender#1", await sender.start());
addresses.set("receiver#1", await receiver.start());

// One message reused: the benchmark measures the transport, not building messages.
const envelope: Envelope = { from: "sender#1", to: "receiver#1", message: acceptMessage(messageBytes, 1) };
const envelopeBytes = encodeEnvelope(envelope).byteLength;

let sent = 0;
const startedMs = performance.now();
const deadlineMs = startedMs + durationSeconds * 1000;
await new Promise<void>((resolve) => {
  const turn = () => {
    if (performance.now() >= deadlineMs) {
      resolve();
      return;
    }
    const room = Math.min(messagesPerTurn, windowMessages - (sent - received));
    for (let index = 0; index < room; index += 1) sender.send(envelope);
    sent += Math.max(room, 0);
    setImmediate(turn);
  };
  turn();
});
const elapsedSeconds = (performance.now() - startedMs) / 1000;
const senderStats = sender.stats();
const receiverStats = receiver.stats();
await Promise.all([sender.close(), receiver.close()]);

const round = (value: number, digits: number) => Number(value.toFixed(digits));
console.log(
  JSON.stringify({
    benchmark: "peer-transport-loopback",
    node: process.version,
    seconds: round(elapsedSeconds, 2),
    messageBytes,
    envelopeBytes,
    messages: received,
    messagesPerSecond: Math.round(received / elapsedSeconds),
    megabytesPerSecond: round(receiverStats.bytesReceived / elapsedSeconds / 1e6, 1),
    framesPerSecond: Math.round(receiverStats.framesReceived / elapsedSeconds),
    messagesPerFrame: round(received / Math.max(receiverStats.framesReceived, 1), 1),
    dropped: senderStats.dropped,
  }),
);
