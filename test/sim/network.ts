// The simulated network between members: every message may be dropped, duplicated,
// delayed (and so reordered), or blocked by a partition, full, partial or one-way.
import type { Envelope } from "../../replica/src/paxos/messages.ts";
import type { Prng } from "./prng.ts";

export interface NetworkFaults {
  dropProbability: number;
  duplicateProbability: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export const calmNetwork: NetworkFaults = {
  dropProbability: 0,
  duplicateProbability: 0,
  minDelayMs: 1,
  maxDelayMs: 3,
};

export class SimNetwork {
  faults: NetworkFaults;
  /** Directed links that drop everything: "from>to". */
  private readonly blocked = new Set<string>();
  sent = 0;
  dropped = 0;

  private readonly prng: Prng;

  constructor(prng: Prng, faults: NetworkFaults) {
    this.prng = prng;
    this.faults = faults;
  }

  /** Delivery delays for one send: none when lost, two when duplicated. */
  deliveries(envelope: Envelope): number[] {
    this.sent += 1;
    if (
      this.blocked.has(`${envelope.from}>${envelope.to}`) ||
      this.prng.chance(this.faults.dropProbability)
    ) {
      this.dropped += 1;
      return [];
    }
    const delay = () => this.prng.between(this.faults.minDelayMs, this.faults.maxDelayMs);
    return this.prng.chance(this.faults.duplicateProbability) ? [delay(), delay()] : [delay()];
  }

  block(from: string, to: string): void {
    this.blocked.add(`${from}>${to}`);
  }

  /** Members in different groups cannot talk; members left out of every group keep all links. */
  partition(groups: readonly (readonly string[])[]): void {
    for (const [index, group] of groups.entries()) {
      for (const [otherIndex, other] of groups.entries()) {
        if (index === otherIndex) continue;
        for (const from of group) for (const to of other) this.block(from, to);
      }
    }
  }

  /** `member` can send but not receive (or the reverse): the classic one-way partition. */
  isolateOneWay(member: string, others: readonly string[], direction: "inbound" | "outbound"): void {
    for (const other of others) {
      if (direction === "inbound") this.block(other, member);
      else this.block(member, other);
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  get partitioned(): boolean {
    return this.blocked.size > 0;
  }
}
