// Membership lives in the log. A member is (name, incarnation); its key
// "name#incarnation" is what ballots, quorums and messages use. The incarnation is a
// random id created with the member's data directory, so a member that lost its disk
// is a different member and must be added again.

export interface MemberId {
  readonly name: string;
  readonly incarnation: string;
}

export function memberKey(member: MemberId): string {
  return `${member.name}#${member.incarnation}`;
}

export function parseMemberKey(key: string): MemberId {
  const separator = key.lastIndexOf("#");
  if (separator <= 0 || separator === key.length - 1)
    throw new Error(`not a member key: ${JSON.stringify(key)}`);
  return { name: key.slice(0, separator), incarnation: key.slice(separator + 1) };
}

/** Every list holds member keys, sorted, so equal configurations are equal as JSON. */
export interface Configuration {
  /** Acceptors whose votes count: quorums are strict majorities of these. */
  readonly voters: readonly string[];
  /** Non-voting members that receive the log and catch up before promotion. */
  readonly learners: readonly string[];
  /** Members that may not lead or serve clients (they still accept and vote). */
  readonly fenced: readonly string[];
  /** Banned incarnations: everyone drops their messages; never members again. */
  readonly evicted: readonly string[];
}

export type ConfigChange =
  | { readonly type: "addLearner"; readonly member: string }
  | { readonly type: "promote"; readonly member: string }
  | { readonly type: "remove"; readonly member: string }
  | { readonly type: "fence"; readonly member: string }
  | { readonly type: "unfence"; readonly member: string }
  | { readonly type: "evict"; readonly member: string };

export const emptyConfiguration: Configuration = Object.freeze({
  voters: [],
  learners: [],
  fenced: [],
  evicted: [],
});

export function initialConfiguration(voters: readonly string[]): Configuration {
  for (const voter of voters) parseMemberKey(voter);
  if (new Set(voters).size !== voters.length) throw new Error("initial configuration lists a member twice");
  if (voters.length === 0) throw new Error("initial configuration needs at least one voter");
  return { voters: [...voters].sort(), learners: [], fenced: [], evicted: [] };
}

export function quorumSize(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/** True when `acknowledged` holds a strict majority of the configuration's voters. */
export function isQuorum(configuration: Configuration, acknowledged: ReadonlySet<string>): boolean {
  let count = 0;
  for (const voter of configuration.voters) if (acknowledged.has(voter)) count += 1;
  return count >= quorumSize(configuration.voters.length);
}

export const isVoter = (configuration: Configuration, member: string) =>
  configuration.voters.includes(member);
export const isLearner = (configuration: Configuration, member: string) =>
  configuration.learners.includes(member);
export const isMember = (configuration: Configuration, member: string) =>
  isVoter(configuration, member) || isLearner(configuration, member);
export const isFenced = (configuration: Configuration, member: string) =>
  configuration.fenced.includes(member);
export const isEvicted = (configuration: Configuration, member: string) =>
  configuration.evicted.includes(member);

/** Why `change` cannot apply to `configuration`, or undefined when it can. */
export function configChangeProblem(configuration: Configuration, change: ConfigChange): string | undefined {
  let member: MemberId;
  try {
    member = parseMemberKey(change.member);
  } catch (error) {
    return (error as Error).message;
  }
  const { member: key } = change;
  const unfencedVoters = configuration.voters.filter((voter) => !isFenced(configuration, voter));
  switch (change.type) {
    case "addLearner": {
      if (isEvicted(configuration, key)) return `${key} was evicted; a new incarnation must join instead`;
      const sameName = [...configuration.voters, ...configuration.learners].find(
        (existing) => parseMemberKey(existing).name === member.name,
      );
      if (sameName !== undefined)
        return `a member named ${member.name} already exists (${sameName}); remove or evict it first`;
      return undefined;
    }
    case "promote":
      return isLearner(configuration, key) ? undefined : `${key} is not a learner`;
    case "remove":
    case "evict":
      if (change.type === "evict" && isEvicted(configuration, key)) return `${key} is already evicted`;
      if (change.type === "remove" && !isMember(configuration, key)) return `${key} is not a member`;
      if (isVoter(configuration, key) && configuration.voters.length === 1) return `${key} is the last voter`;
      if (isVoter(configuration, key) && !isFenced(configuration, key) && unfencedVoters.length - 1 < 1)
        return `removing ${key} would leave no voter that may lead`;
      return undefined;
    case "fence":
      if (!isMember(configuration, key)) return `${key} is not a member`;
      if (isFenced(configuration, key)) return `${key} is already fenced`;
      if (isVoter(configuration, key) && unfencedVoters.length - 1 < quorumSize(configuration.voters.length))
        return `fencing ${key} would leave fewer unfenced voters than a quorum`;
      return undefined;
    case "unfence":
      return isFenced(configuration, key) ? undefined : `${key} is not fenced`;
  }
}

/**
 * True when `configuration` already shows the effect of `change`, so that proposing it
 * again would change nothing: an admin call retried after a crash then succeeds instead
 * of being refused. Only the exact key counts: another incarnation of the same name is
 * a different member. A key that was never a learner nor a voter (evicted ones included)
 * is not "already promoted", and a malformed key is never in effect.
 */
export function configChangeInEffect(configuration: Configuration, change: ConfigChange): boolean {
  const { member: key } = change;
  try {
    parseMemberKey(key);
  } catch {
    return false;
  }
  switch (change.type) {
    case "addLearner":
      return isMember(configuration, key);
    case "promote":
      return isVoter(configuration, key);
    case "remove":
      return !isMember(configuration, key);
    case "evict":
      return isEvicted(configuration, key);
    case "fence":
      return isMember(configuration, key) && isFenced(configuration, key);
    case "unfence":
      return isMember(configuration, key) && !isFenced(configuration, key);
  }
}

const sorted = (keys: Iterable<string>) => [...new Set(keys)].sort();
const without = (keys: readonly string[], key: string) => keys.filter((existing) => existing !== key);

/** The configuration after `change`; throws on a change that `configChangeProblem` rejects. */
export function applyConfigChange(configuration: Configuration, change: ConfigChange): Configuration {
  const problem = configChangeProblem(configuration, change);
  if (problem !== undefined) throw new Error(`cannot ${change.type} ${change.member}: ${problem}`);
  const key = change.member;
  switch (change.type) {
    case "addLearner":
      return { ...configuration, learners: sorted([...configuration.learners, key]) };
    case "promote":
      return {
        ...configuration,
        voters: sorted([...configuration.voters, key]),
        learners: without(configuration.learners, key),
      };
    case "remove":
      return {
        ...configuration,
        voters: without(configuration.voters, key),
        learners: without(configuration.learners, key),
        fenced: without(configuration.fenced, key),
      };
    case "evict":
      return {
        voters: without(configuration.voters, key),
        learners: without(configuration.learners, key),
        fenced: without(configuration.fenced, key),
        evicted: sorted([...configuration.evicted, key]),
      };
    case "fence":
      return { ...configuration, fenced: sorted([...configuration.fenced, key]) };
    case "unfence":
      return { ...configuration, fenced: without(configuration.fenced, key) };
  }
}
