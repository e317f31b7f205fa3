// Quorum arithmetic for membership changes. A configuration change commits only through a
// quorum of the current voters, and the cluster stays up afterwards only if a quorum of the
// new voters is healthy; both are checked before every voting change or disruption.

/** A strict majority of `voters`. */
export function quorumSize(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

function countHealthy(voters: readonly string[], healthy: ReadonlySet<string>): number {
  return voters.filter((voter) => healthy.has(voter)).length;
}

/** Why a configuration change cannot commit now, or undefined when a quorum can commit it. */
export function commitProblem(voters: readonly string[], healthy: ReadonlySet<string>): string | undefined {
  const count = countHealthy(voters, healthy);
  const quorum = quorumSize(voters.length);
  return count >= quorum
    ? undefined
    : `only ${count} of ${voters.length} voters are healthy and a change needs a quorum of ${quorum} to commit`;
}

/**
 * Why removing (or evicting) `member` is unsafe, or undefined when it is safe: the change
 * must commit in the current configuration, and the remaining voters must still have a
 * healthy quorum. Removing a learner changes no quorum, but still has to commit.
 */
export function removalProblem(
  voters: readonly string[],
  healthy: ReadonlySet<string>,
  member: string,
): string | undefined {
  if (!voters.includes(member)) return commitProblem(voters, healthy);
  if (voters.length === 1) return `${member} is the last voter`;
  const now = commitProblem(voters, healthy);
  if (now !== undefined) return now;
  const remaining = voters.filter((voter) => voter !== member);
  const count = countHealthy(remaining, healthy);
  const quorum = quorumSize(remaining.length);
  return count >= quorum
    ? undefined
    : `without ${member}, only ${count} of the remaining ${remaining.length} voters would be healthy and a quorum is ${quorum}`;
}

/** Why promoting `learner` is unsafe: it must be caught up and the change must commit. */
export function promotionProblem(
  voters: readonly string[],
  healthy: ReadonlySet<string>,
  learner: string,
): string | undefined {
  if (!healthy.has(learner)) return `${learner} is not caught up and healthy`;
  // With a healthy quorum of n voters and the healthy learner, n + 1 voters have one too.
  return commitProblem(voters, healthy);
}

/**
 * Why taking `member` down for a while (a restart) would cost the cluster its quorum. A
 * cluster of one or two voters cannot restart any voter and keep its quorum, so for those
 * the restart is allowed when every voter is healthy: it cannot be done better.
 */
export function disruptionProblem(
  voters: readonly string[],
  healthy: ReadonlySet<string>,
  member: string,
): string | undefined {
  if (!voters.includes(member)) return undefined;
  const others = countHealthy(
    voters.filter((voter) => voter !== member),
    healthy,
  );
  const quorum = quorumSize(voters.length);
  if (others >= quorum) return undefined;
  if (voters.length < 3 && countHealthy(voters, healthy) === voters.length) return undefined;
  return `while ${member} restarts, only ${others} of ${voters.length} voters would be healthy and a quorum is ${quorum}`;
}
