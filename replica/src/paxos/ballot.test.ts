import { describe, expect, it } from "vitest";
import {
  ballotAtLeast,
  ballotGreater,
  ballotsEqual,
  compareBallots,
  formatBallot,
  zeroBallot,
} from "./ballot.ts";

describe("ballots", () => {
  it("order by round first, whatever the proposers", () => {
    expect(compareBallots({ round: 1, proposer: "z" }, { round: 2, proposer: "a" })).toBe(-1);
    expect(compareBallots({ round: 2, proposer: "a" }, { round: 1, proposer: "z" })).toBe(1);
  });

  it("within a round, order by proposer key", () => {
    expect(compareBallots({ round: 1, proposer: "a#1" }, { round: 1, proposer: "b#1" })).toBe(-1);
    expect(compareBallots({ round: 1, proposer: "b#1" }, { round: 1, proposer: "a#1" })).toBe(1);
    expect(compareBallots({ round: 1, proposer: "a#1" }, { round: 1, proposer: "a#1" })).toBe(0);
  });

  it("greater is strict, at-least is not", () => {
    const one = { round: 1, proposer: "a#1" };
    expect(ballotGreater(one, { ...one })).toBe(false);
    expect(ballotGreater({ round: 2, proposer: "a#1" }, one)).toBe(true);
    expect(ballotGreater(one, { round: 2, proposer: "a#1" })).toBe(false);
    expect(ballotAtLeast(one, { ...one })).toBe(true);
    expect(ballotAtLeast(one, { round: 1, proposer: "b#1" })).toBe(false);
    expect(ballotsEqual(one, { ...one })).toBe(true);
    expect(ballotsEqual(one, { round: 1, proposer: "b#1" })).toBe(false);
  });

  it("the zero ballot is below every ballot a member can use", () => {
    expect(zeroBallot).toEqual({ round: 0, proposer: "" });
    expect(Object.isFrozen(zeroBallot)).toBe(true);
    expect(ballotGreater({ round: 0, proposer: "a#1" }, zeroBallot)).toBe(true);
  });

  it("formats as round.proposer, with - for the zero ballot's empty proposer", () => {
    expect(formatBallot({ round: 3, proposer: "a#1" })).toBe("3.a#1");
    expect(formatBallot(zeroBallot)).toBe("0.-");
  });
});
