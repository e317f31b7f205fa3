import type { ResolvedTransportOptions } from "./options.ts";
import type { TransportCounters } from "./stats.ts";

/** What the transport shares with its connections. */
export interface TransportContext {
  readonly options: ResolvedTransportOptions;
  readonly counters: TransportCounters;
  /** Records that `member` was heard from just now. */
  noteContact(member: string): void;
}
