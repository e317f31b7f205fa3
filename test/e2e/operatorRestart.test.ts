// The operator crashed from outside (SIGKILL, no graceful shutdown) and coming back, as the
// kubelet restarts a crashed container in the same pod: the new process has the same
// identity (POD_NAME), so it takes its Lease back at once instead of waiting the 15 s for it
// to expire, and no other identity holds it in between. Checked through the Lease alone, so
// it holds on every target. The restart times are printed (`make e2e`).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultLeaseName } from "../../operator/src/main.ts";
import { waitFor } from "../support/waitFor.ts";
import { type Kube, kubeClients } from "./support.ts";
import { type E2eTarget, openTarget } from "./targets/target.ts";

/** Where both targets run the operator and its Lease (test/support/localCluster.ts, hack/e2e-kind.sh). */
const operatorNamespace = "paxos-system";
/** The operator's default lease duration (operator/src/leaderElection.ts). */
const leaseDurationMs = 15_000;

interface LeaseSpec {
  readonly holderIdentity?: string;
  readonly acquireTime?: string;
  /** metav1.MicroTime: fixed width (six fractional digits, Z), so strings compare in time order. */
  readonly renewTime?: string;
  readonly leaseTransitions?: number;
}

describe("the operator crash-restarted from outside", () => {
  let target: E2eTarget;
  let kube: Kube;

  beforeAll(async () => {
    target = await openTarget();
    kube = kubeClients(target);
  });

  afterAll(async () => {
    await target?.close();
  });

  const readLease = async (): Promise<LeaseSpec> => {
    const lease = (await kube.objects.getNamespacedCustomObject({
      group: "coordination.k8s.io",
      version: "v1",
      namespace: operatorNamespace,
      plural: "leases",
      name: defaultLeaseName,
    })) as { spec?: LeaseSpec };
    return lease.spec ?? {};
  };

  it("comes back under the same identity and keeps its Lease, twice in a row", async () => {
    const before = await readLease();
    expect(before.holderIdentity, "the operator holds its Lease before the test").toBeTruthy();
    for (const round of [1, 2]) {
      const started = Date.now();
      await target.restartOperator();
      const restartMs = Date.now() - started;
      console.log(`[e2e] operator crash-restart ${round}: back (ready, Lease renewed) in ${restartMs} ms`);
      // Locally the restart waits for nothing but the new process; on kind the kubelet's
      // crash-loop back-off (10 s before a second restart in a row) may come on top.
      if (target.name === "local") expect(restartMs).toBeLessThan(leaseDurationMs);

      // The killed process renews nothing any more: a renewal after this read is the new one's.
      const back = await readLease();
      const renewed = await waitFor(
        async () => {
          const lease = await readLease();
          return (lease.renewTime ?? "") > (back.renewTime ?? "") ? lease : undefined;
        },
        {
          description: `the restarted operator to renew its Lease (round ${round})`,
          // Renewals come every 2 s; an operator waiting for the Lease to expire would take 15 s.
          timeoutMs: leaseDurationMs / 2,
        },
      );
      // Same holder, same term: the Lease never changed hands in between (a takeover by another
      // identity, such as a standby on kind, counts a transition and sets a new acquireTime).
      expect(renewed.holderIdentity).toBe(before.holderIdentity);
      expect(renewed.acquireTime).toBe(before.acquireTime);
      expect(renewed.leaseTransitions).toBe(before.leaseTransitions);
      expect((renewed.renewTime ?? "") > (before.renewTime ?? "")).toBe(true);
    }
  });
});
