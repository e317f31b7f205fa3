// core/v1 Events on the PaxosCluster, shown by `kubectl describe paxoscluster`. The same
// Event repeated (a step that keeps failing, a wait that keeps waiting) is counted on one
// object, as the kubelet's recorder does, instead of one object per retry. Recording an
// Event never fails a reconcile: Events are best effort.
import { randomBytes } from "node:crypto";
import { type CoreV1Api, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { type PaxosCluster, paxosApiVersion, paxosClusterKind } from "./builders/index.ts";

const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const component = "paxos-operator";

/** A repeat within this long bumps the earlier Event's count. */
export const eventSeriesWindowMs = 10 * 60_000;
/** Series remembered at most (the oldest are forgotten first). */
const maxSeries = 1_000;

interface Series {
  readonly name: string;
  count: number;
  lastMs: number;
}

/** What to do with one Event: create a new object, or count it on an earlier one. */
export class EventSeries {
  readonly #series = new Map<string, Series>();

  /** The earlier Event to bump, or undefined to create one (then call `created`). */
  repeatOf(key: string, nowMs: number): Series | undefined {
    const series = this.#series.get(key);
    if (series === undefined || nowMs - series.lastMs > eventSeriesWindowMs) return undefined;
    series.count += 1;
    series.lastMs = nowMs;
    return series;
  }

  created(key: string, name: string, nowMs: number): void {
    this.#series.delete(key);
    this.#series.set(key, { name, count: 1, lastMs: nowMs });
    while (this.#series.size > maxSeries) {
      const oldest = this.#series.keys().next().value;
      if (oldest === undefined) break;
      this.#series.delete(oldest);
    }
  }

  forget(key: string): void {
    this.#series.delete(key);
  }
}

const series = new EventSeries();

export class EventRecorder {
  readonly #core: CoreV1Api;
  readonly #cluster: PaxosCluster;

  constructor(core: CoreV1Api, cluster: PaxosCluster) {
    this.#core = core;
    this.#cluster = cluster;
  }

  normal(reason: string, message: string): Promise<void> {
    return this.#record("Normal", reason, message);
  }

  warning(reason: string, message: string): Promise<void> {
    return this.#record("Warning", reason, message);
  }

  async #record(type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    const { name, namespace, uid, resourceVersion } = this.#cluster.metadata;
    const now = new Date();
    const key = `${uid}\u0000${type}\u0000${reason}\u0000${message}`;
    const repeat = series.repeatOf(key, now.getTime());
    try {
      if (repeat !== undefined) {
        await this.#core.patchNamespacedEvent(
          { namespace, name: repeat.name, body: { count: repeat.count, lastTimestamp: now } },
          mergePatch,
        );
        return;
      }
    } catch {
      // The earlier Event is gone (expired): record a new one.
      series.forget(key);
    }
    const eventName = `${name}.${now.getTime().toString(16)}${randomBytes(4).toString("hex")}`;
    try {
      await this.#core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name: eventName, namespace },
          involvedObject: {
            apiVersion: paxosApiVersion,
            kind: paxosClusterKind,
            name,
            namespace,
            uid,
            ...(resourceVersion === undefined ? {} : { resourceVersion }),
          },
          reason,
          message,
          type,
          source: { component },
          reportingComponent: component,
          reportingInstance: component,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
      series.created(key, eventName, now.getTime());
    } catch {
      // Best effort: the next decision records its own Event.
    }
  }
}
