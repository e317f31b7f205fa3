// A tiny synchronous cluster for the core's unit tests: messages are delivered by
// hand (or all at once), durable state is kept per member, nothing is random except
// through a fixed sequence. The simulator (test/sim) is the randomized counterpart.
import { type Ballot, zeroBallot } from "./ballot.ts";
import { type ConfigChange, type Configuration, initialConfiguration } from "./configuration.ts";
import { defaultPaxosOptions, emptyDurableState, PaxosNode, type PaxosOptions } from "./core.ts";
import type {
  AcceptedEntry,
  DurableState,
  Envelope,
  HardState,
  Message,
  ProposedEntry,
  Ready,
  Snapshot,
} from "./messages.ts";

export interface HarnessMember {
  node: PaxosNode;
  durable: { hardState: HardState; snapshot: Snapshot; entries: Map<number, AcceptedEntry> };
  committed: ProposedEntry[];
  readies: Ready[];
  up: boolean;
}

export class Harness {
  readonly members = new Map<string, HarnessMember>();
  /** Messages sent and not yet delivered. */
  inFlight: Envelope[] = [];
  private randomValues = [0.1, 0.5, 0.9, 0.3, 0.7];
  private randomIndex = 0;
  readonly options: Partial<PaxosOptions>;

  constructor(voters: readonly string[], options: Partial<PaxosOptions> = {}) {
    this.options = options;
    const configuration = initialConfiguration(voters);
    for (const key of voters) this.addMember(key, configuration);
  }

  addMember(key: string, configuration: Configuration): HarnessMember {
    const durable = emptyDurableState(configuration);
    const member: HarnessMember = {
      node: PaxosNode.restore(this.paxosOptions(key), durable),
      durable: { hardState: durable.hardState, snapshot: durable.snapshot, entries: new Map() },
      committed: [],
      readies: [],
      up: true,
    };
    this.members.set(key, member);
    this.collect(key);
    return member;
  }

  paxosOptions(self: string): PaxosOptions {
    return {
      ...defaultPaxosOptions,
      self,
      random: () => {
        const value = this.randomValues[this.randomIndex % this.randomValues.length] ?? 0.5;
        this.randomIndex += 1;
        return value;
      },
      ...this.options,
    };
  }

  member(key: string): HarnessMember {
    const member = this.members.get(key);
    if (member === undefined) throw new Error(`no member ${key}`);
    return member;
  }

  node(key: string): PaxosNode {
    return this.member(key).node;
  }

  /** Persists and queues the member's output, as the runtime would. */
  collect(key: string): Ready | undefined {
    const member = this.member(key);
    if (!member.node.hasReady()) return undefined;
    const ready = member.node.ready();
    member.readies.push(ready);
    if (ready.snapshot !== undefined) {
      member.durable.snapshot = ready.snapshot;
      for (const slot of [...member.durable.entries.keys()])
        if (slot <= ready.snapshot.index) member.durable.entries.delete(slot);
    }
    for (const entry of ready.entries) member.durable.entries.set(entry.slot, entry);
    if (ready.hardState !== undefined) member.durable.hardState = ready.hardState;
    if (ready.restore !== undefined) member.committed = member.committed.filter((entry) => entry.slot <= 0);
    member.committed.push(...ready.committed);
    this.inFlight.push(...ready.messages);
    return ready;
  }

  collectAll(): void {
    for (const key of this.members.keys()) if (this.member(key).up) this.collect(key);
  }

  tick(key: string, times = 1): void {
    for (let i = 0; i < times; i += 1) {
      this.node(key).tick(i);
      this.collect(key);
    }
  }

  /** Delivers queued messages (those `keep` accepts) until none are left; returns how many. */
  deliverAll(keep: (envelope: Envelope) => boolean = () => true, maxRounds = 1000): number {
    let delivered = 0;
    for (let round = 0; round < maxRounds && this.inFlight.length > 0; round += 1) {
      const batch = this.inFlight;
      this.inFlight = [];
      for (const envelope of batch) {
        const target = this.members.get(envelope.to);
        if (target === undefined || !target.up || !keep(envelope)) continue;
        target.node.step(envelope);
        delivered += 1;
        this.collect(envelope.to);
      }
    }
    return delivered;
  }

  /** Ticks `key` until it starts an election, then lets the cluster settle. */
  elect(key: string): void {
    for (let i = 0; i < 100 && this.node(key).status().role !== "leader"; i += 1) {
      this.tick(key);
      this.deliverAll();
    }
    if (this.node(key).status().role !== "leader") throw new Error(`${key} did not become leader`);
  }

  /** Ticks every member that is up, round after round, until exactly one leads. */
  runUntilLeader(maxRounds = 200): string {
    for (let round = 0; round < maxRounds; round += 1) {
      const leaders = [...this.members].filter(
        ([, member]) => member.up && member.node.status().role === "leader",
      );
      if (leaders.length === 1 && leaders[0] !== undefined) return leaders[0][0];
      for (const [key, member] of this.members) if (member.up) this.tick(key);
      this.deliverAll();
    }
    throw new Error("no single leader emerged");
  }

  crash(key: string): void {
    this.member(key).up = false;
    this.inFlight = this.inFlight.filter((envelope) => envelope.to !== key);
  }

  restart(key: string): PaxosNode {
    const member = this.member(key);
    const durable: DurableState = {
      hardState: member.durable.hardState,
      snapshot: member.durable.snapshot,
      entries: [...member.durable.entries.values()],
    };
    member.node = PaxosNode.restore(this.paxosOptions(key), durable);
    member.committed = [];
    member.up = true;
    this.collect(key);
    return member.node;
  }

  change(leader: string, change: ConfigChange) {
    const result = this.node(leader).proposeConfigChange(change);
    this.collect(leader);
    return result;
  }
}

export const request = (text: string): Uint8Array => new TextEncoder().encode(text);
export const requestsOf = (entries: readonly ProposedEntry[]): string[] =>
  entries.flatMap((entry) =>
    entry.value.kind === "batch" ? entry.value.requests.map((bytes) => new TextDecoder().decode(bytes)) : [],
  );

// ------------------------------------------------------------ a member alone
// For rule-by-rule tests: one PaxosNode, fed hand-written messages, its output read
// back whole. `random` is 0 unless a test says otherwise, so the election timeout is
// exactly `electionTimeoutTicks`.

export function soloNode(
  self: string,
  configuration: Configuration,
  options: Partial<PaxosOptions> = {},
  durable: DurableState = emptyDurableState(configuration),
): PaxosNode {
  const node = PaxosNode.restore({ ...defaultPaxosOptions, self, random: () => 0, ...options }, durable);
  node.ready();
  return node;
}

/** Delivers `message` from `from` to `node` and returns everything the node produced. */
export function deliver(node: PaxosNode, from: string, message: Message): Ready {
  node.step({ from, to: node.options.self, message });
  return node.ready();
}

/** Ticks `node` `times` times and returns the messages it sent meanwhile. */
export function tickFor(node: PaxosNode, times: number): Envelope[] {
  const messages: Envelope[] = [];
  for (let i = 0; i < times; i += 1) {
    node.tick(0);
    messages.push(...node.ready().messages);
  }
  return messages;
}

export const messagesOfType = <T extends Message["type"]>(
  envelopes: readonly Envelope[],
  type: T,
): Extract<Message, { type: T }>[] =>
  envelopes.flatMap((envelope) =>
    envelope.message.type === type ? [envelope.message as Extract<Message, { type: T }>] : [],
  );

export interface PromiseFrom {
  readonly from: string;
  readonly accepted?: readonly AcceptedEntry[];
  readonly committedThrough?: number;
  readonly snapshotIndex?: number;
}

/**
 * Makes `node` campaign: it times out, `granters` grant its pre-vote, then the
 * promises are delivered in order. Returns the ballot and the Ready of the last promise.
 */
export function campaign(
  node: PaxosNode,
  granters: readonly string[],
  promises: readonly PromiseFrom[],
): { ballot: Ballot; ready: Ready } {
  let preVotes: Extract<Message, { type: "preVote" }>[] = [];
  for (let i = 0; i < 1000 && preVotes.length === 0; i += 1) {
    node.tick(0);
    preVotes = messagesOfType(node.ready().messages, "preVote");
  }
  const preVote = preVotes[0];
  if (preVote === undefined) throw new Error(`${node.options.self} never campaigned`);
  let ready = node.ready();
  for (const granter of granters) {
    ready = deliver(node, granter, {
      type: "preVoteReply",
      ballot: preVote.ballot,
      granted: true,
      promised: zeroBallot,
    });
  }
  const prepare = messagesOfType(ready.messages, "prepare")[0];
  if (prepare === undefined) throw new Error(`${node.options.self} did not reach phase 1`);
  for (const promise of promises) {
    ready = deliver(node, promise.from, {
      type: "promise",
      ballot: prepare.ballot,
      fromSlot: prepare.fromSlot,
      committedThrough: promise.committedThrough ?? 0,
      snapshotIndex: promise.snapshotIndex ?? 0,
      accepted: promise.accepted ?? [],
    });
  }
  return { ballot: prepare.ballot, ready };
}

/** Acknowledges `slots` to the leader `node` as `from`, reporting `committedThrough`. */
export function acknowledge(
  node: PaxosNode,
  from: string,
  ballot: Ballot,
  slots: readonly number[],
  committedThrough: number,
  extra: { commitSeen?: number; readRound?: number; uninitialized?: boolean } = {},
): Ready {
  return deliver(node, from, {
    type: "accepted",
    ballot,
    slots,
    committedThrough,
    commitSeen: extra.commitSeen ?? committedThrough,
    readRound: extra.readRound ?? 0,
    uninitialized: extra.uninitialized ?? false,
  });
}
