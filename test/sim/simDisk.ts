// A member's disk in the simulator. Writes land in a volatile buffer; an fsync makes
// everything written so far durable. A crash keeps the durable records and a random
// prefix of the buffered ones (a torn tail), exactly what a write-ahead log with
// checksums recovers to.
import type { AcceptedEntry, DurableState, HardState, Snapshot } from "../../replica/src/paxos/messages.ts";

export type DiskRecord =
  | { readonly kind: "hardState"; readonly hardState: HardState }
  | { readonly kind: "entry"; readonly entry: AcceptedEntry }
  | { readonly kind: "snapshot"; readonly snapshot: Snapshot };

export class SimDisk {
  private durable: DiskRecord[] = [];
  private buffered: DiskRecord[] = [];

  write(records: readonly DiskRecord[]): void {
    this.buffered.push(...records);
  }

  /** Everything written so far becomes durable. */
  sync(): void {
    this.durable.push(...this.buffered);
    this.buffered = [];
    this.maybeCompactRecords();
  }

  /** Power loss: buffered writes are lost, except a prefix of `keptRecords` of them. */
  crash(keptRecords: number): void {
    this.durable.push(...this.buffered.slice(0, Math.max(0, keptRecords)));
    this.buffered = [];
  }

  get bufferedCount(): number {
    return this.buffered.length;
  }

  /** The disk is wiped (a lost volume): the member must come back as a new incarnation. */
  wipe(): void {
    this.durable = [];
    this.buffered = [];
  }

  get isEmpty(): boolean {
    return this.durable.length === 0;
  }

  /** What a restarting member reads back: the last snapshot, hard state and entries after it. */
  load(): DurableState | undefined {
    let hardState: HardState | undefined;
    let snapshot: Snapshot | undefined;
    const entries = new Map<number, AcceptedEntry>();
    for (const record of this.durable) {
      if (record.kind === "hardState") hardState = record.hardState;
      else if (record.kind === "entry") entries.set(record.entry.slot, record.entry);
      else {
        snapshot = record.snapshot;
        for (const slot of [...entries.keys()]) if (slot <= record.snapshot.index) entries.delete(slot);
      }
    }
    if (snapshot === undefined || hardState === undefined) return undefined;
    const snapshotIndex = snapshot.index;
    return {
      hardState,
      snapshot,
      entries: [...entries.values()]
        .filter((entry) => entry.slot > snapshotIndex)
        .sort((a, b) => a.slot - b.slot),
    };
  }

  /** Keeps the simulated disk small: rewrite it as its own loaded state now and then. */
  private maybeCompactRecords(): void {
    if (this.durable.length < 4096) return;
    const state = this.load();
    if (state === undefined) return;
    this.durable = [
      { kind: "snapshot", snapshot: state.snapshot },
      ...state.entries.map((entry) => ({ kind: "entry" as const, entry })),
      { kind: "hardState", hardState: state.hardState },
    ];
  }
}
