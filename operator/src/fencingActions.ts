// Carries out one action of the fencing planner (operator/src/fencing): fence, unfence and
// evict through the leader's admin API, a leadership hand-over, or the force-deletion of a
// lost Node's pod. Like the membership actions, each is safe to repeat.
import type { FencingActionName } from "./clusterMetrics.ts";
import type { FencingAction } from "./fencing/types.ts";
import { claimName } from "./membership/observe.ts";
import { type ActionContext, ignoringNotFound, leaderTarget } from "./membershipActions.ts";
import { changeMembership, transferLeadership } from "./replicaAdmin.ts";

/** The metric name of what was done, or undefined when the action does nothing by itself. */
export async function performFencingAction(
  context: ActionContext,
  action: FencingAction,
): Promise<FencingActionName | undefined> {
  const { clients, namespace } = context;
  switch (action.type) {
    case "none":
    case "wait":
      return undefined;
    case "fence":
    case "unfence":
    case "evict":
      await changeMembership(leaderTarget(context, action.leader), action.type, action.member);
      return action.type;
    case "transferLeadership":
      await transferLeadership(leaderTarget(context, action.leader), action.to);
      return undefined;
    case "forceDeletePod":
      // The member is evicted, so its data is of no use; and a local volume is bound to the
      // lost Node, where the new pod could never run. The claim goes first (it is deleted
      // once the pod is gone), then the pod, without waiting for a kubelet that is not there.
      await ignoringNotFound(
        clients.core.deleteNamespacedPersistentVolumeClaim({ namespace, name: claimName(action.pod) }),
      );
      await ignoringNotFound(
        clients.core.deleteNamespacedPod({ namespace, name: action.pod, gracePeriodSeconds: 0 }),
      );
      return "force_delete_pod";
  }
}
