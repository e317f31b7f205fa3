// Leader election through a coordination.k8s.io/v1 Lease, like client-go's leaderelection:
// one operator replica reconciles, the others wait to take over. The Lease goes through the
// custom-objects API as plain JSON because the typed client writes its MicroTime fields
// with millisecond precision, which the API server's MicroTime parser refuses.
import type { CustomObjectsApi } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { isApiError } from "./reconciler.ts";

const group = "coordination.k8s.io";
const version = "v1";
const plural = "leases";

export interface LeaseSpec {
  readonly holderIdentity?: string;
  readonly leaseDurationSeconds?: number;
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions?: number;
}

interface LeaseObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace: string; readonly resourceVersion?: string };
  readonly spec?: LeaseSpec;
}

/**
 * Whether `identity` may take or keep the lease. Expiry is judged on our own clock, from
 * when we last saw the lease's record change (`observedAtMs`), not from its renewTime,
 * which was written with the holder's clock: clock skew between replicas then does not
 * matter, only the rate of time.
 */
export function mayAcquire(
  spec: LeaseSpec | undefined,
  identity: string,
  observedAtMs: number,
  nowMs: number,
): boolean {
  const holder = spec?.holderIdentity;
  if (holder === undefined || holder === "" || holder === identity) return true;
  const durationMs = (spec?.leaseDurationSeconds ?? 0) * 1000;
  return nowMs - observedAtMs >= durationMs;
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(date: Date): string {
  return `${date.toISOString().slice(0, 23)}000Z`;
}

export interface LeaderElectionOptions {
  readonly objects: CustomObjectsApi;
  readonly namespace: string;
  readonly leaseName: string;
  readonly identity: string;
  readonly logger: Logger;
  readonly leaseDurationSeconds?: number;
  /** How often to try to acquire or renew. */
  readonly retryPeriodMs?: number;
}

export interface LeadershipCallbacks {
  readonly onStartedLeading: () => Promise<void>;
  readonly onStoppedLeading: () => Promise<void>;
}

export class LeaderElector {
  readonly #options: LeaderElectionOptions;
  readonly #leaseDurationSeconds: number;
  readonly #retryPeriodMs: number;
  /** A leader that could not renew for this long stops leading, before its lease expires for others. */
  readonly #renewDeadlineMs: number;
  #leading = false;
  #lastRenewMs = 0;
  #observed: { record: string; atMs: number } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #stopped = false;
  #stopping: Promise<void> | undefined;
  #callbacks: LeadershipCallbacks | undefined;

  constructor(options: LeaderElectionOptions) {
    this.#options = options;
    this.#leaseDurationSeconds = options.leaseDurationSeconds ?? 15;
    this.#retryPeriodMs = options.retryPeriodMs ?? 2000;
    this.#renewDeadlineMs = (this.#leaseDurationSeconds * 1000 * 2) / 3;
    if (this.#retryPeriodMs >= this.#renewDeadlineMs)
      throw new Error("the retry period must be shorter than two thirds of the lease duration");
  }

  get leading(): boolean {
    return this.#leading;
  }

  start(callbacks: LeadershipCallbacks): void {
    if (this.#callbacks !== undefined) throw new Error("the leader elector was already started");
    this.#callbacks = callbacks;
    this.#schedule(0);
  }

  /** Stops trying, stops leading and releases the lease so a standby takes over at once. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#running;
    if (!this.#leading) return;
    this.#leading = false;
    await this.#callbacks?.onStoppedLeading();
    await this.#release().catch((error: unknown) => {
      this.#options.logger.warn(
        { err: error },
        "could not release the lease; a standby takes over when it expires",
      );
    });
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#running = this.#round().finally(() => {
        if (!this.#stopped) this.#schedule(this.#retryPeriodMs);
      });
    }, delayMs);
  }

  async #round(): Promise<void> {
    let acquired = false;
    try {
      acquired = await this.#tryAcquireOrRenew();
    } catch (error) {
      this.#options.logger.warn({ err: error }, "could not acquire or renew the lease");
    }
    if (this.#stopped) return;
    const now = Date.now();
    if (acquired) {
      this.#lastRenewMs = now;
      if (!this.#leading) {
        this.#leading = true;
        this.#options.logger.info({ identity: this.#options.identity }, "started leading");
        await this.#callbacks?.onStartedLeading();
      }
    } else if (this.#leading && now - this.#lastRenewMs > this.#renewDeadlineMs) {
      this.#leading = false;
      this.#options.logger.warn({ identity: this.#options.identity }, "lost the lease; stopped leading");
      await this.#callbacks?.onStoppedLeading();
    }
  }

  async #read(): Promise<LeaseObject | undefined> {
    const { objects, namespace, leaseName: name } = this.#options;
    try {
      return (await objects.getNamespacedCustomObject({
        group,
        version,
        namespace,
        plural,
        name,
      })) as LeaseObject;
    } catch (error) {
      if (isApiError(error, 404)) return undefined;
      throw error;
    }
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { objects, namespace, leaseName: name, identity } = this.#options;
    const now = new Date();
    const lease = await this.#read();
    if (lease === undefined) {
      const body: LeaseObject = {
        apiVersion: `${group}/${version}`,
        kind: "Lease",
        metadata: { name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: this.#leaseDurationSeconds,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: 0,
        },
      };
      return this.#write(() =>
        objects.createNamespacedCustomObject({ group, version, namespace, plural, body }),
      );
    }
    const record = JSON.stringify(lease.spec ?? {});
    if (this.#observed?.record !== record) this.#observed = { record, atMs: now.getTime() };
    if (!mayAcquire(lease.spec, identity, this.#observed.atMs, now.getTime())) return false;

    const holderChanges = lease.spec?.holderIdentity !== identity;
    const spec: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: this.#leaseDurationSeconds,
      acquireTime: holderChanges ? microTime(now) : (lease.spec?.acquireTime ?? microTime(now)),
      renewTime: microTime(now),
      leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + (holderChanges ? 1 : 0),
    };
    // The resourceVersion in the body makes this a compare-and-swap: of two replicas that
    // both saw an expired lease, one gets a 409.
    return this.#write(() =>
      objects.replaceNamespacedCustomObject({
        group,
        version,
        namespace,
        plural,
        name,
        body: { ...lease, spec },
      }),
    );
  }

  async #write(request: () => Promise<unknown>): Promise<boolean> {
    try {
      await request();
      return true;
    } catch (error) {
      if (isApiError(error, 409)) return false;
      throw error;
    }
  }

  async #release(): Promise<void> {
    const { objects, namespace, leaseName: name, identity } = this.#options;
    const lease = await this.#read();
    if (lease?.spec?.holderIdentity !== identity) return;
    const now = microTime(new Date());
    const spec: LeaseSpec = {
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: lease.spec.leaseTransitions ?? 0,
    };
    await objects.replaceNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      name,
      body: { ...lease, spec },
    });
  }
}
