// Carries out one action of the membership planner (operator/src/membership): the thin I/O
// shell around it. The planner has already recorded the step in status.operation, and
// every action here is safe to repeat, so a failure is reported and the next reconcile
// plans again from what it then observes.
import { ApiException, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { MembershipAction } from "./membership/types.ts";
import type { KubernetesClients } from "./reconciler.ts";
import { type AdminTarget, changeMembership, transferLeadership } from "./replicaAdmin.ts";

const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export interface ActionContext {
  readonly clients: KubernetesClients;
  readonly namespace: string;
  readonly statefulSet: string;
  /** Pod name → IP, for admin calls to the leader's pod. */
  readonly podIPs: ReadonlyMap<string, string>;
  readonly adminToken: string;
  readonly fieldManager: string;
}

/** What was done, for the Event; undefined when the action does nothing by itself. */
export async function performMembershipAction(
  context: ActionContext,
  action: MembershipAction,
): Promise<string | undefined> {
  const { clients, namespace } = context;
  switch (action.type) {
    case "none":
    case "wait":
    case "complete":
      return undefined;
    case "scaleStatefulSet":
      await clients.apps.patchNamespacedStatefulSet(
        {
          namespace,
          name: context.statefulSet,
          body: { spec: { replicas: action.replicas } },
          fieldManager: context.fieldManager,
        },
        mergePatch,
      );
      return `Scaled StatefulSet ${context.statefulSet} to ${action.replicas}.`;
    case "addLearner":
    case "promote":
    case "removeMember":
    case "evictMember": {
      const kind = {
        addLearner: "addLearner",
        promote: "promote",
        removeMember: "remove",
        evictMember: "evict",
      } as const;
      const result = await changeMembership(
        leaderTarget(context, action.leader),
        kind[action.type],
        action.member,
      );
      const verb = {
        addLearner: `Added ${action.member} as a learner`,
        promote: `Promoted ${action.member} to voter`,
        removeMember: `Removed ${action.member} from the configuration`,
        evictMember: `Evicted ${action.member}; that incarnation can never rejoin`,
      }[action.type];
      return result.alreadyApplied
        ? `${verb} (it already was, slot ${result.slot}).`
        : `${verb} (slot ${result.slot}).`;
    }
    case "transferLeadership":
      await transferLeadership(leaderTarget(context, action.leader), action.to);
      return `Asked ${action.leader} to hand leadership to ${action.to}.`;
    case "deletePod":
      await ignoringNotFound(clients.core.deleteNamespacedPod({ namespace, name: action.pod }));
      return `Deleted pod ${action.pod}.`;
    case "deleteClaim":
      await ignoringNotFound(
        clients.core.deleteNamespacedPersistentVolumeClaim({ namespace, name: action.claim }),
      );
      return `Deleted PersistentVolumeClaim ${action.claim}.`;
  }
}

/** The leader's admin endpoint. */
export function leaderTarget(context: ActionContext, leader: string): AdminTarget {
  const ip = context.podIPs.get(leader);
  if (ip === undefined) throw new Error(`the leader's pod ${leader} has no IP; the next reconcile retries`);
  return { ip, token: context.adminToken };
}

/** Deleting what is already gone is the effect the step wanted. */
export async function ignoringNotFound(deletion: Promise<unknown>): Promise<void> {
  try {
    await deletion;
  } catch (error) {
    if (!(error instanceof ApiException && error.code === 404)) throw error;
  }
}
