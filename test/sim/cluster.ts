// One seeded simulation run: a whole cluster of ReplicaMachines on a virtual clock,
// a network and disks that misbehave, clients that record what they saw, and an
// operator that changes membership while it all happens. Invariants are checked at
// every step; the histories go to the linearizability checker afterwards.
import { formatBallot } from "../../replica/src/paxos/ballot.ts";
import {
  applyConfigChange,
  type ConfigChange,
  type Configuration,
  configChangeProblem,
  emptyConfiguration,
  initialConfiguration,
  isQuorum,
  parseMemberKey,
} from "../../replica/src/paxos/configuration.ts";
import { emptyDurableState, sameValue } from "../../replica/src/paxos/core.ts";
import type { Envelope, Ready, SlotValue } from "../../replica/src/paxos/messages.ts";
import {
  type Applied,
  type Query,
  ReplicaMachine,
  replicaMachineOptions,
} from "../../replica/src/replicaMachine.ts";
import type { Command, RequestResult } from "../../replica/src/stateMachine/index.ts";
import type { HistoryOperation } from "../support/lincheck.ts";
import { EventQueue } from "./eventQueue.ts";
import { calmNetwork, SimNetwork } from "./network.ts";
import { Prng } from "./prng.ts";
import { type DiskRecord, SimDisk } from "./simDisk.ts";

// Virtual time is in microseconds, so that event order within a millisecond is exact.
const ms = 1_000;

export interface SimOptions {
  readonly seed: number;
  readonly members: 1 | 3 | 5 | 7;
  /** How long faults are injected. */
  readonly faultPhaseMs: number;
  /** After faults stop, the cluster must serve a write within this long. */
  readonly livenessDeadlineMs: number;
  readonly clients: number;
  /** Probability scale of faults: 0 runs a calm cluster. */
  readonly faultIntensity: number;
}

export interface SimResult {
  readonly seed: number;
  readonly members: number;
  readonly violations: string[];
  readonly kvHistory: HistoryOperation[];
  readonly lockHistory: HistoryOperation[];
  /** Virtual ms from start to the first chosen slot (dueling first elections). */
  readonly firstLeaderMs: number | undefined;
  readonly stats: Record<string, number>;
}

const tickMs = 10;
const fsyncMinUs = 200;
const fsyncMaxUs = 3 * ms;
const clientTimeoutMs = 400;
const lockTtlMs = 60 * 60 * 1000;
const keys = ["k0", "k1", "k2"];
const locks = ["l0", "l1"];

type SimEvent =
  | { readonly type: "tick"; readonly member: string; readonly generation: number }
  | { readonly type: "deliver"; readonly envelope: Envelope }
  | { readonly type: "fsync"; readonly member: string; readonly generation: number }
  | { readonly type: "restart"; readonly member: string }
  | { readonly type: "fault" }
  | { readonly type: "admin" }
  | { readonly type: "endFaults" }
  | {
      readonly type: "clientArrive";
      readonly client: number;
      readonly sequence: number;
      readonly attempt: number;
      readonly member: string;
    }
  | {
      readonly type: "clientReply";
      readonly client: number;
      readonly sequence: number;
      readonly attempt: number;
      readonly reply: Reply;
    }
  | {
      readonly type: "clientTimeout";
      readonly client: number;
      readonly sequence: number;
      readonly attempt: number;
    }
  | {
      readonly type: "clientRetry";
      readonly client: number;
      readonly sequence: number;
      readonly attempt: number;
    }
  | { readonly type: "clientNext"; readonly client: number };

type Reply =
  | { readonly kind: "result"; readonly result: RequestResult | ReadResult }
  | { readonly kind: "refused"; readonly leader: string | undefined };

type ReadResult = ReturnType<ReplicaMachine["readLocal"]>;

interface SimMember {
  readonly key: string;
  readonly disk: SimDisk;
  machine: ReplicaMachine | undefined;
  generation: number;
  readonly clockOffsetMs: number;
  readonly clockRate: number;
  /** Readies written to disk and waiting for the fsync that lets them out. */
  unsynced: Ready[];
  fsyncScheduled: boolean;
  /** Client requests proposed here, answered when applied here. */
  readonly waitingRequests: Map<string, Waiting>;
  readonly waitingReads: Map<number, Waiting>;
  /** Per lock, the last fencing token this member's state machine granted, and to which request. */
  lockTokens: Map<string, { token: number; request: string }>;
  wiped: boolean;
  /** What the disk held when it was wiped: its votes then still count for the checks. */
  lostState: ReturnType<SimDisk["load"]>;
}

interface Waiting {
  readonly client: number;
  readonly sequence: number;
  readonly attempt: number;
}

interface ClientOp {
  readonly model: "kv" | "lock";
  readonly command: Command;
  readonly query: Query | undefined;
  readonly input: Record<string, unknown>;
  readonly sequence: number;
  readonly call: number;
  attempt: number;
  target: string | undefined;
}

interface SimClient {
  readonly id: number;
  readonly clientId: string;
  sequence: number;
  op: ClientOp | undefined;
  readonly heldTokens: Map<string, number>;
  lastLeader: string | undefined;
  stopped: boolean;
}

export class SimCluster {
  readonly options: SimOptions;
  private readonly prng: Prng;
  private readonly faultPrng: Prng;
  private readonly clientPrng: Prng;
  private readonly queue = new EventQueue<SimEvent>();
  readonly network: SimNetwork;
  private now = 0;
  private readonly members = new Map<string, SimMember>();
  private readonly clients: SimClient[] = [];
  private nextIncarnation = 1;
  private nextReadId = 1;
  private faultsActive = true;
  private readonly violations: string[] = [];
  private readonly kvHistory: HistoryOperation[] = [];
  private readonly lockHistory: HistoryOperation[] = [];
  private readonly stats: Record<string, number> = {
    crashes: 0,
    partitions: 0,
    wipes: 0,
    transfers: 0,
    configChanges: 0,
    clockEntries: 0,
    opsCompleted: 0,
    opsUnknown: 0,
    eventsProcessed: 0,
  };

  // What the checks know: the chosen value of every slot, and the configuration each one had.
  private readonly chosen = new Map<number, SlotValue>();
  private readonly configurationBefore = new Map<number, Configuration>();
  private chosenThrough = 0;
  private readonly digests = new Map<number, string>();
  private readonly leaderOfBallot = new Map<string, string>();
  private firstChosenAt: number | undefined;
  private livenessWriteAt: number | undefined;
  private pendingAdmin: { readonly change: ConfigChange; readonly followUp?: ConfigChange } | undefined;

  constructor(options: SimOptions) {
    this.options = options;
    this.prng = new Prng(options.seed);
    this.faultPrng = this.prng.fork();
    this.clientPrng = this.prng.fork();
    this.network = new SimNetwork(this.prng.fork(), calmNetwork);
    const keysOfMembers = Array.from({ length: options.members }, (_, index) =>
      this.newMemberKey(`m${index}`),
    );
    const configuration = initialConfiguration(keysOfMembers);
    this.configurationBefore.set(1, configuration);
    for (const key of keysOfMembers) this.addSimMember(key, configuration);
    for (let id = 0; id < options.clients; id += 1) {
      this.clients.push({
        id,
        clientId: `client-${id}`,
        sequence: 0,
        op: undefined,
        heldTokens: new Map(),
        lastLeader: undefined,
        stopped: false,
      });
      this.queue.push(this.prng.between(50, 300) * ms, { type: "clientNext", client: id });
    }
    if (options.faultIntensity > 0) {
      this.queue.push(100 * ms, { type: "fault" });
      this.queue.push(300 * ms, { type: "admin" });
    }
    this.queue.push(options.faultPhaseMs * ms, { type: "endFaults" });
  }

  private newMemberKey(name: string): string {
    const incarnation = `${this.nextIncarnation.toString(36)}${this.prng.nextUint32().toString(36)}`;
    this.nextIncarnation += 1;
    return `${name}#${incarnation}`;
  }

  private addSimMember(key: string, configuration: Configuration): SimMember {
    const disk = new SimDisk();
    const durable = emptyDurableState(configuration);
    // A new member's data directory: written and synced before it starts.
    disk.write([
      { kind: "snapshot", snapshot: durable.snapshot },
      { kind: "hardState", hardState: durable.hardState },
    ]);
    disk.sync();
    const drift = this.options.faultIntensity > 0 ? 0.02 : 0;
    const member: SimMember = {
      key,
      disk,
      machine: undefined,
      generation: 0,
      clockOffsetMs: this.prng.between(0, 100_000),
      clockRate: 1 + (this.prng.next() * 2 - 1) * drift,
      unsynced: [],
      fsyncScheduled: false,
      waitingRequests: new Map(),
      waitingReads: new Map(),
      lockTokens: new Map(),
      wiped: false,
      lostState: undefined,
    };
    this.members.set(key, member);
    this.start(member);
    return member;
  }

  private start(member: SimMember): void {
    const durable = member.disk.load();
    if (durable === undefined) throw new Error(`${member.key}: disk holds no state`);
    const random = this.prng.fork();
    member.machine = new ReplicaMachine(
      replicaMachineOptions(member.key, () => random.next(), {
        compactAfterEntries: 200,
        clockEntryIntervalMs: 500,
        paxos: { maxInflightSlots: 16, maxBatchRequests: 8, maxEntriesPerMessage: 64 },
      }),
      durable,
    );
    member.generation += 1;
    member.unsynced = [];
    member.fsyncScheduled = false;
    member.lockTokens = new Map();
    this.scheduleTick(member);
    this.drain(member);
  }

  private localTimeMs(member: SimMember): number {
    return member.clockOffsetMs + (this.now / ms) * member.clockRate;
  }

  private scheduleTick(member: SimMember): void {
    const intervalUs = Math.round((tickMs * ms) / member.clockRate);
    this.queue.push(this.now + intervalUs, {
      type: "tick",
      member: member.key,
      generation: member.generation,
    });
  }

  // ------------------------------------------------------------------ run

  run(): SimResult {
    const endAt = (this.options.faultPhaseMs + this.options.livenessDeadlineMs + 1_500) * ms;
    while (this.queue.size > 0 && this.violations.length === 0) {
      const next = this.queue.pop();
      if (next === undefined || next.at > endAt) break;
      this.now = next.at;
      this.stats.eventsProcessed = (this.stats.eventsProcessed ?? 0) + 1;
      this.handle(next.event);
    }
    if (this.violations.length === 0) this.checkEnd();
    this.closeHistories();
    return {
      seed: this.options.seed,
      members: this.options.members,
      violations: this.violations,
      kvHistory: this.kvHistory,
      lockHistory: this.lockHistory,
      firstLeaderMs: this.firstChosenAt === undefined ? undefined : this.firstChosenAt / ms,
      stats: { ...this.stats, messagesSent: this.network.sent, messagesDropped: this.network.dropped },
    };
  }

  private violation(message: string): void {
    this.violations.push(`t=${(this.now / ms).toFixed(3)}ms: ${message}`);
  }

  private handle(event: SimEvent): void {
    switch (event.type) {
      case "tick": {
        const member = this.members.get(event.member);
        if (member?.machine === undefined || member.generation !== event.generation) return;
        member.machine.tick(this.localTimeMs(member));
        this.scheduleTick(member);
        this.drain(member);
        return;
      }
      case "deliver": {
        const member = this.members.get(event.envelope.to);
        if (member?.machine === undefined) return;
        member.machine.paxos.step(event.envelope);
        this.drain(member);
        return;
      }
      case "fsync": {
        const member = this.members.get(event.member);
        if (member?.machine === undefined || member.generation !== event.generation) return;
        this.completeFsync(member);
        return;
      }
      case "restart": {
        const member = this.members.get(event.member);
        if (member === undefined || member.machine !== undefined || member.wiped) return;
        this.start(member);
        return;
      }
      case "fault":
        if (!this.faultsActive) return;
        this.injectFault();
        this.queue.push(this.now + this.faultPrng.between(50, 400) * ms, { type: "fault" });
        return;
      case "admin":
        if (!this.faultsActive) return;
        this.adminStep();
        this.queue.push(this.now + this.faultPrng.between(200, 800) * ms, { type: "admin" });
        return;
      case "endFaults":
        this.endFaults();
        return;
      case "clientArrive":
        this.clientArrive(waitingOf(event), event.member);
        return;
      case "clientReply":
        this.clientReply(waitingOf(event), event.reply);
        return;
      case "clientTimeout":
        this.clientTimeout(waitingOf(event));
        return;
      case "clientRetry": {
        const client = this.clients[event.client];
        const op = client?.op;
        if (client !== undefined && op?.sequence === event.sequence && op.attempt === event.attempt)
          this.sendAttempt(client);
        return;
      }
      case "clientNext":
        this.clientNext(event.client);
        return;
    }
  }

  // --------------------------------------------------------- member I/O

  /** Writes the member's output to its disk; the fsync that follows lets it out. */
  private drain(member: SimMember): void {
    const machine = member.machine;
    if (machine === undefined) return;
    for (let ready = machine.ready(); ready !== undefined; ready = machine.ready()) {
      const records: DiskRecord[] = [];
      if (ready.snapshot !== undefined) records.push({ kind: "snapshot", snapshot: ready.snapshot });
      for (const entry of ready.entries) records.push({ kind: "entry", entry });
      if (ready.hardState !== undefined) records.push({ kind: "hardState", hardState: ready.hardState });
      member.disk.write(records);
      this.checkLeadership(member);
      if (!ready.mustSync && member.unsynced.length === 0) {
        // Only the commit index moved: written but not synced, and let out at once, as the
        // runtime does. A crash may lose it; the member must learn it again.
        if (!this.release(member, ready)) return;
        continue;
      }
      member.unsynced.push(ready);
    }
    if (member.unsynced.length > 0 && !member.fsyncScheduled) {
      member.fsyncScheduled = true;
      this.queue.push(this.now + this.prng.between(fsyncMinUs, fsyncMaxUs), {
        type: "fsync",
        member: member.key,
        generation: member.generation,
      });
    }
  }

  /** Group commit: one fsync makes every waiting Ready durable; then send and apply. */
  private completeFsync(member: SimMember): void {
    const machine = member.machine;
    if (machine === undefined) return;
    member.disk.sync();
    const readies = member.unsynced;
    member.unsynced = [];
    member.fsyncScheduled = false;
    for (const ready of readies) if (!this.release(member, ready)) return;
    this.checkDigest(member);
    this.drain(member);
  }

  /** Sends a Ready's messages and applies it; false once a violation is found. */
  private release(member: SimMember, ready: Ready): boolean {
    const machine = member.machine;
    if (machine === undefined) return false;
    for (const envelope of ready.messages) this.transmit(envelope);
    if (ready.restore !== undefined) member.lockTokens = new Map();
    for (const entry of ready.committed) this.noteChosen(member, entry.slot, entry.value);
    this.answerClients(member, machine.applyReady(ready));
    return this.violations.length === 0;
  }

  private transmit(envelope: Envelope): void {
    for (const delayMs of this.network.deliveries(envelope)) {
      this.queue.push(this.now + delayMs * ms + this.prng.int(ms), { type: "deliver", envelope });
    }
  }

  private crash(member: SimMember): void {
    if (member.machine === undefined) return;
    this.stats.crashes = (this.stats.crashes ?? 0) + 1;
    // Power loss: un-synced writes are lost except a torn prefix.
    member.disk.crash(this.faultPrng.int(member.disk.bufferedCount + 1));
    member.machine = undefined;
    member.generation += 1;
    member.unsynced = [];
    member.fsyncScheduled = false;
    member.waitingRequests.clear();
    member.waitingReads.clear();
  }

  // ------------------------------------------------------------- checks

  private checkLeadership(member: SimMember): void {
    const status = member.machine?.paxos.status();
    if (status?.role !== "leader") return;
    const ballot = formatBallot(status.promised);
    const leader = this.leaderOfBallot.get(ballot);
    if (leader === undefined) this.leaderOfBallot.set(ballot, member.key);
    else if (leader !== member.key)
      this.violation(`two leaders for ballot ${ballot}: ${leader} and ${member.key}`);
  }

  /** A member applies slot `slot` with `value`: it must be the one value ever chosen there. */
  private noteChosen(member: SimMember, slot: number, value: SlotValue): void {
    const known = this.chosen.get(slot);
    if (known !== undefined) {
      if (!sameValue(known, value))
        this.violation(
          `slot ${slot}: ${member.key} applied ${describe(value)} but ${describe(known)} was chosen`,
        );
      return;
    }
    if (slot !== this.chosenThrough + 1) {
      this.violation(
        `slot ${slot} applied by ${member.key} before slot ${this.chosenThrough + 1} was chosen`,
      );
      return;
    }
    const configuration = this.configurationBefore.get(slot);
    if (configuration === undefined) {
      this.violation(`no configuration known for slot ${slot}`);
      return;
    }
    // Chosen means: a majority of the voters of this slot's configuration accepted it.
    // Evicted or removed members are not voters, so they can never make up that majority.
    const holders = new Set<string>();
    for (const candidate of this.members.values()) {
      if (!configuration.voters.includes(candidate.key)) continue;
      if (this.holdsValue(candidate, slot, value)) holders.add(candidate.key);
    }
    if (!isQuorum(configuration, holders))
      this.violation(
        `slot ${slot} was committed with ${describe(value)} but only ${[...holders].join(", ") || "nobody"} of voters ${configuration.voters.join(", ")} accepted it`,
      );
    this.chosen.set(slot, value);
    this.chosenThrough = slot;
    this.firstChosenAt ??= this.now;
    let next = configuration;
    if (value.kind === "config" && configChangeProblem(configuration, value.change) === undefined)
      next = applyConfigChange(configuration, value.change);
    this.configurationBefore.set(slot + 1, next);
  }

  private holdsValue(member: SimMember, slot: number, value: SlotValue): boolean {
    if (member.machine !== undefined) {
      const paxos = member.machine.paxos;
      if (paxos.status().snapshotIndex >= slot) return true;
      const accepted = paxos.acceptedAt(slot);
      return accepted !== undefined && sameValue(accepted.value, value);
    }
    const durable = member.wiped ? member.lostState : member.disk.load();
    if (durable === undefined) return false;
    if (durable.snapshot.index >= slot) return true;
    const entry = durable.entries.find((candidate) => candidate.slot === slot);
    return entry !== undefined && sameValue(entry.value, value);
  }

  private checkDigest(member: SimMember): void {
    const machine = member.machine;
    if (machine === undefined || machine.applied % 16 !== 0 || machine.applied === 0) return;
    const digest = machine.digest();
    const known = this.digests.get(machine.applied);
    if (known === undefined) this.digests.set(machine.applied, digest);
    else if (known !== digest)
      this.violation(`${member.key} has a different state at slot ${machine.applied}`);
  }

  private checkTokens(member: SimMember, request: string, command: Command, result: RequestResult): void {
    if (command.op !== "acquire" || !result.ok || !("alreadyHeld" in result) || result.alreadyHeld) return;
    const last = member.lockTokens.get(command.name);
    // A retried request gets its original answer (the same token) from the session table.
    if (last !== undefined && last.request === request && last.token === result.token) return;
    if (last !== undefined && result.token <= last.token)
      this.violation(
        `${member.key} granted lock ${command.name} with token ${result.token} after ${last.token}`,
      );
    member.lockTokens.set(command.name, { token: result.token, request });
  }

  private checkEnd(): void {
    if (this.livenessWriteAt === undefined)
      this.violation(
        `liveness: no write completed within ${this.options.livenessDeadlineMs} ms after the faults stopped`,
      );
    for (const client of this.clients) {
      if (client.op !== undefined && client.op.call < (this.options.faultPhaseMs + 200) * ms) {
        // Operations begun during faults may legitimately stay unknown; later ones must finish.
        continue;
      }
      if (client.op !== undefined)
        this.violation(`liveness: client ${client.id} still waits for an operation begun after the faults`);
    }
    // Every live member of the final configuration converges on the same state.
    const configuration = this.configurationBefore.get(this.chosenThrough + 1);
    const live = [...this.members.values()].filter(
      (member) => member.machine !== undefined && configuration?.voters.includes(member.key),
    );
    // Entries still in flight at the end (the leader's clock entries) allow a small lag.
    const applied = live.map((member) => member.machine?.applied ?? 0);
    if (Math.max(...applied) - Math.min(...applied) > 2)
      this.violation(
        `members did not converge: applied ${live.map((member) => `${member.key}=${member.machine?.applied}`).join(", ")}`,
      );
  }

  // -------------------------------------------------------------- faults

  private upMembers(): SimMember[] {
    return [...this.members.values()].filter((member) => member.machine !== undefined);
  }

  private currentLeader(): SimMember | undefined {
    return this.upMembers().find((member) => member.machine?.paxos.status().role === "leader");
  }

  private injectFault(): void {
    const prng = this.faultPrng;
    const intensity = this.options.faultIntensity;
    const all = [...this.members.values()].filter((member) => !member.wiped);
    const keysOfAll = all.map((member) => member.key);
    const roll = prng.next();
    if (roll < 0.25 * intensity) {
      const victim = prng.chance(0.4) ? (this.currentLeader() ?? prng.pick(all)) : prng.pick(all);
      this.crash(victim);
      this.queue.push(this.now + prng.between(20, 600) * ms, { type: "restart", member: victim.key });
    } else if (roll < 0.45 * intensity) {
      this.stats.partitions = (this.stats.partitions ?? 0) + 1;
      this.network.heal();
      const shape = prng.int(3);
      if (shape === 0) {
        const shuffled = [...keysOfAll].sort(() => prng.next() - 0.5);
        const cut = prng.between(1, Math.max(1, shuffled.length - 1));
        this.network.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
      } else if (shape === 1) {
        const isolated = prng.pick(keysOfAll);
        this.network.isolateOneWay(
          isolated,
          keysOfAll.filter((key) => key !== isolated),
          prng.chance(0.5) ? "inbound" : "outbound",
        );
      } else {
        // Partial: one link pair cut, everything else fine.
        const from = prng.pick(keysOfAll);
        const to = prng.pick(keysOfAll);
        if (from !== to) {
          this.network.block(from, to);
          this.network.block(to, from);
        }
      }
    } else if (roll < 0.6 * intensity) {
      this.network.heal();
    } else if (roll < 0.75 * intensity) {
      this.network.faults = {
        dropProbability: prng.next() * 0.2 * intensity,
        duplicateProbability: prng.next() * 0.1 * intensity,
        minDelayMs: 1,
        maxDelayMs: prng.between(2, 60),
      };
    } else if (roll < 0.82 * intensity) {
      const leader = this.currentLeader();
      const voters = leader?.machine?.paxos.status().configuration.voters ?? [];
      const target = voters.filter((key) => key !== leader?.key);
      if (leader?.machine !== undefined && target.length > 0) {
        this.stats.transfers = (this.stats.transfers ?? 0) + 1;
        leader.machine.paxos.transferLeadership(prng.pick(target));
        this.drain(leader);
      }
    }
  }

  /** The operator's part: membership changes while faults happen. */
  private adminStep(): void {
    const prng = this.faultPrng;
    const leader = this.currentLeader();
    if (leader?.machine === undefined) return;
    const status = leader.machine.paxos.status();
    const configuration = status.configuration;
    if (this.pendingAdmin !== undefined) {
      this.propose(leader, this.pendingAdmin.change, this.pendingAdmin.followUp);
      return;
    }
    if (prng.chance(0.5)) return;
    const voters = configuration.voters;
    const choice = prng.int(5);
    if (choice === 0 && configuration.learners.length === 0 && voters.length < 7) {
      // Grow: a fresh member joins as a learner and is promoted once it has caught up.
      const key = this.newMemberKey(`m${this.members.size}`);
      this.addSimMember(key, emptyConfiguration);
      this.propose(leader, { type: "addLearner", member: key }, { type: "promote", member: key });
    } else if (choice === 1 && configuration.learners.length > 0) {
      this.propose(leader, { type: "promote", member: prng.pick(configuration.learners) });
    } else if (choice === 2 && voters.length > this.options.members) {
      this.propose(leader, { type: "remove", member: prng.pick(voters) });
    } else if (choice === 3 && voters.length >= 3) {
      const target = prng.pick(voters);
      const change: ConfigChange = configuration.fenced.includes(target)
        ? { type: "unfence", member: target }
        : { type: "fence", member: target };
      this.propose(leader, change);
    } else if (choice === 4 && voters.length >= 3 && this.options.members >= 3) {
      // A member loses its disk: its old incarnation is evicted, a new one joins.
      const victimKey = prng.pick(voters.filter((key) => key !== leader.key));
      const victim = this.members.get(victimKey);
      if (victim === undefined) return;
      this.stats.wipes = (this.stats.wipes ?? 0) + 1;
      this.crash(victim);
      victim.lostState = victim.disk.load();
      victim.disk.wipe();
      victim.wiped = true;
      const replacement = this.newMemberKey(parseMemberKey(victimKey).name);
      this.addSimMember(replacement, emptyConfiguration);
      this.propose(leader, { type: "evict", member: victimKey }, { type: "addLearner", member: replacement });
    }
  }

  private propose(leader: SimMember, change: ConfigChange, followUp?: ConfigChange): void {
    const result = leader.machine?.paxos.proposeConfigChange(change);
    this.drain(leader);
    if (result?.ok) {
      this.stats.configChanges = (this.stats.configChanges ?? 0) + 1;
      // A new learner is promoted by a later step once it is caught up (the leader
      // refuses a promotion that would add a lagging voter).
      this.pendingAdmin =
        followUp === undefined
          ? undefined
          : followUp.type === "addLearner"
            ? { change: followUp, followUp: { type: "promote", member: followUp.member } }
            : { change: followUp };
    } else if (result !== undefined && result.code === "InvalidChange") {
      this.pendingAdmin = undefined;
    } else {
      this.pendingAdmin = { change, ...(followUp === undefined ? {} : { followUp }) };
    }
  }

  private endFaults(): void {
    this.faultsActive = false;
    this.network.heal();
    this.network.faults = calmNetwork;
    for (const member of this.members.values()) {
      if (member.machine === undefined && !member.wiped) this.start(member);
    }
    const leader = this.currentLeader();
    // Unfence everyone so that any member may lead again (the operator would, once healthy).
    if (leader?.machine !== undefined) {
      for (const fenced of leader.machine.paxos.status().configuration.fenced) {
        this.pendingAdmin = { change: { type: "unfence", member: fenced } };
      }
    }
    this.queue.push(this.now + 50 * ms, { type: "admin" });
  }

  // -------------------------------------------------------------- clients

  private clientNext(clientIndex: number): void {
    const client = this.clients[clientIndex];
    if (client === undefined || client.stopped || client.op !== undefined) return;
    // New operations stop a second before the liveness deadline, so that every one begun
    // has time to finish; retries go on until the run ends.
    const end = (this.options.faultPhaseMs + this.options.livenessDeadlineMs - 1_000) * ms;
    if (this.now > end) return;
    const prng = this.clientPrng;
    client.sequence += 1;
    const useLocks = prng.chance(0.3);
    let op: ClientOp;
    if (useLocks) {
      const lock = prng.pick(locks);
      const held = client.heldTokens.get(lock);
      const command: Command =
        held !== undefined && prng.chance(0.7)
          ? { op: "release", name: lock, owner: client.clientId, token: held }
          : { op: "acquire", name: lock, owner: client.clientId, ttlMs: lockTtlMs };
      op = {
        model: "lock",
        command,
        query: undefined,
        input: { op: command.op, lock, owner: client.clientId },
        sequence: client.sequence,
        call: this.now,
        attempt: 0,
        target: client.lastLeader,
      };
    } else {
      const key = prng.pick(keys);
      const kind = prng.int(10);
      const value = `v${client.id}-${client.sequence}`;
      let command: Command;
      let input: Record<string, unknown>;
      let query: Query | undefined;
      if (kind < 4) {
        command = { op: "get", key };
        query = { op: "get", key };
        input = { op: "get", key };
      } else if (kind < 7) {
        command = { op: "put", key, value };
        input = { op: "put", key, value };
      } else if (kind < 9) {
        const expected = prng.between(0, 40);
        command = { op: "put", key, value, expectedModRevision: expected };
        input = { op: "cas", key, value, expectedRevision: expected };
      } else {
        command = { op: "delete", key };
        input = { op: "delete", key };
      }
      op = {
        model: "kv",
        command,
        query,
        input,
        sequence: client.sequence,
        call: this.now,
        attempt: 0,
        target: client.lastLeader,
      };
    }
    client.op = op;
    this.sendAttempt(client);
  }

  private sendAttempt(client: SimClient): void {
    const op = client.op;
    if (op === undefined) return;
    op.attempt += 1;
    const candidates = [...this.members.values()]
      .filter((member) => !member.wiped)
      .map((member) => member.key);
    const target =
      op.target !== undefined && candidates.includes(op.target)
        ? op.target
        : this.clientPrng.pick(candidates);
    op.target = undefined;
    const id = { client: client.id, sequence: op.sequence, attempt: op.attempt };
    this.queue.push(this.now + this.clientPrng.between(200, 2_000), {
      type: "clientArrive",
      ...id,
      member: target,
    });
    this.queue.push(this.now + clientTimeoutMs * ms, { type: "clientTimeout", ...id });
  }

  private clientArrive(waiting: Waiting, memberKey: string): void {
    const client = this.clients[waiting.client];
    const op = client?.op;
    const member = this.members.get(memberKey);
    if (
      client === undefined ||
      op === undefined ||
      op.sequence !== waiting.sequence ||
      op.attempt !== waiting.attempt
    )
      return;
    const machine = member?.machine;
    if (member === undefined || machine === undefined) return; // no answer: the client times out
    const reply = (value: Reply) => this.reply(waiting, value);
    if (op.query !== undefined) {
      const readId = this.nextReadId++;
      const result = machine.read(readId, op.query);
      if (!result.ok) {
        reply({ kind: "refused", leader: result.code === "NotLeader" ? result.leader : undefined });
        return;
      }
      member.waitingReads.set(readId, waiting);
    } else {
      const result = machine.submit({
        clientId: client.clientId,
        sequence: op.sequence,
        command: op.command,
      });
      if (!result.ok) {
        reply({ kind: "refused", leader: result.code === "NotLeader" ? result.leader : undefined });
        return;
      }
      member.waitingRequests.set(`${client.clientId}:${op.sequence}`, waiting);
    }
    this.drain(member);
  }

  private reply(waiting: Waiting, reply: Reply): void {
    this.queue.push(this.now + this.clientPrng.between(200, 2_000), {
      type: "clientReply",
      ...waiting,
      reply,
    });
  }

  private answerClients(member: SimMember, applied: Applied): void {
    for (const answer of applied.requests) {
      const request = `${answer.clientId}:${answer.sequence}`;
      const clientIndex = Number(answer.clientId.slice("client-".length));
      const op = this.clients[clientIndex]?.op;
      if (op !== undefined && op.sequence === answer.sequence)
        this.checkTokens(member, request, op.command, answer.result);
      const waiting = member.waitingRequests.get(request);
      if (waiting === undefined) continue;
      member.waitingRequests.delete(request);
      this.reply(waiting, { kind: "result", result: answer.result });
    }
    for (const read of applied.reads) {
      const waiting = member.waitingReads.get(read.readId);
      if (waiting === undefined) continue;
      member.waitingReads.delete(read.readId);
      this.reply(waiting, { kind: "result", result: read.result });
    }
    for (const readId of applied.failedReads) {
      const waiting = member.waitingReads.get(readId);
      if (waiting === undefined) continue;
      member.waitingReads.delete(readId);
      this.reply(waiting, { kind: "refused", leader: undefined });
    }
  }

  private clientReply(waiting: Waiting, reply: Reply): void {
    const client = this.clients[waiting.client];
    const op = client?.op;
    if (client === undefined || op === undefined || op.sequence !== waiting.sequence) return;
    if (reply.kind === "refused") {
      if (waiting.attempt !== op.attempt) return;
      op.target = reply.leader;
      if (reply.leader !== undefined) client.lastLeader = reply.leader;
      this.retryLater(client);
      return;
    }
    // A late answer to an earlier attempt of the same operation is still its answer.
    this.complete(client, op, reply.result);
  }

  private clientTimeout(waiting: Waiting): void {
    const client = this.clients[waiting.client];
    const op = client?.op;
    if (
      client === undefined ||
      op === undefined ||
      op.sequence !== waiting.sequence ||
      op.attempt !== waiting.attempt
    )
      return;
    client.lastLeader = undefined;
    this.retryLater(client);
  }

  private retryLater(client: SimClient): void {
    const op = client.op;
    if (op === undefined) return;
    const backoffUs = Math.min(200, 5 * 2 ** Math.min(op.attempt, 6)) * ms;
    this.queue.push(this.now + this.clientPrng.between(backoffUs / 2, backoffUs), {
      type: "clientRetry",
      client: client.id,
      sequence: op.sequence,
      attempt: op.attempt,
    });
  }

  private complete(client: SimClient, op: ClientOp, result: RequestResult | ReadResult): void {
    const output = this.historyOutput(client, op, result);
    if (output === "violation") return;
    const entry: HistoryOperation = {
      clientId: client.id,
      input: op.input,
      output,
      call: op.call,
      return: output === null ? null : this.now,
    };
    (op.model === "kv" ? this.kvHistory : this.lockHistory).push(entry);
    if (output === null) this.stats.opsUnknown = (this.stats.opsUnknown ?? 0) + 1;
    else this.stats.opsCompleted = (this.stats.opsCompleted ?? 0) + 1;
    if (op.model === "kv" && op.command.op !== "get" && this.now > this.options.faultPhaseMs * ms)
      this.livenessWriteAt ??= this.now;
    client.op = undefined;
    this.queue.push(this.now + this.clientPrng.between(1, 30) * ms, {
      type: "clientNext",
      client: client.id,
    });
  }

  /** The checker's view of a result, null for "unknown", or "violation" after reporting one. */
  private historyOutput(
    client: SimClient,
    op: ClientOp,
    result: RequestResult | ReadResult,
  ): Record<string, unknown> | null | "violation" {
    const command = op.command;
    if (!result.ok) {
      switch (result.code) {
        case "RevisionMismatch":
          return { ok: false };
        case "LockHeld":
        case "NotLockHolder":
        case "LockNotHeld":
        case "TokenMismatch":
          if (command.op === "release") client.heldTokens.delete(command.name);
          return { ok: false };
        default:
          this.violation(
            `client ${client.id}: ${command.op} failed with ${result.code}: ${JSON.stringify(result)}`,
          );
          return "violation";
      }
    }
    switch (command.op) {
      case "get": {
        if (!("entry" in result)) break;
        const entry = result.entry;
        return entry === null
          ? { found: false }
          : { found: true, value: entry.value, revision: entry.modRevision };
      }
      case "put":
        if (!("revision" in result)) break;
        return command.expectedModRevision === undefined
          ? { revision: result.revision }
          : { ok: true, revision: result.revision };
      case "delete":
        if (!("deleted" in result)) break;
        return result.deleted ? { deleted: true, revision: result.revision } : { deleted: false };
      case "acquire":
        if (!("token" in result)) break;
        client.heldTokens.set(command.name, result.token);
        return { ok: true, token: result.token };
      case "release":
        client.heldTokens.delete(command.name);
        return { ok: true };
      default:
        break;
    }
    this.violation(`client ${client.id}: unexpected result for ${command.op}: ${JSON.stringify(result)}`);
    return "violation";
  }

  /** Operations still open at the end have unknown outcomes: recorded as such, never dropped. */
  private closeHistories(): void {
    for (const client of this.clients) {
      const op = client.op;
      if (op === undefined) continue;
      (op.model === "kv" ? this.kvHistory : this.lockHistory).push({
        clientId: client.id,
        input: op.input,
        output: null,
        call: op.call,
        return: null,
      });
      this.stats.opsUnknown = (this.stats.opsUnknown ?? 0) + 1;
    }
  }
}

function waitingOf(event: Waiting): Waiting {
  return { client: event.client, sequence: event.sequence, attempt: event.attempt };
}

function describe(value: SlotValue): string {
  switch (value.kind) {
    case "noop":
      return "no-op";
    case "batch":
      return `batch of ${value.requests.length} at ${value.timeMs}`;
    case "config":
      return `${value.change.type} ${value.change.member}`;
  }
}
