// Ballots order proposals. A ballot is (round, proposer): two members never share one
// because the proposer is part of it, and a member never reuses one because it
// persists its promise to itself before it sends a prepare, and picks a round above
// every round it has seen (its persisted promise included) after a restart.
//
// Rounds are plain numbers: one round is used per election attempt, and 2^53
// attempts at one per millisecond would take 285 000 years.

export interface Ballot {
  readonly round: number;
  /** The member key (name#incarnation) of the proposer; "" only in the zero ballot. */
  readonly proposer: string;
}

export const zeroBallot: Ballot = Object.freeze({ round: 0, proposer: "" });

export function compareBallots(a: Ballot, b: Ballot): number {
  if (a.round !== b.round) return a.round < b.round ? -1 : 1;
  if (a.proposer === b.proposer) return 0;
  return a.proposer < b.proposer ? -1 : 1;
}

export const ballotsEqual = (a: Ballot, b: Ballot): boolean => compareBallots(a, b) === 0;
export const ballotGreater = (a: Ballot, b: Ballot): boolean => compareBallots(a, b) > 0;
export const ballotAtLeast = (a: Ballot, b: Ballot): boolean => compareBallots(a, b) >= 0;

export function formatBallot(ballot: Ballot): string {
  return `${ballot.round}.${ballot.proposer || "-"}`;
}
