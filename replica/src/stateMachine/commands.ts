import {
  type AcquireResult,
  type ChangesResult,
  type DeleteResult,
  type Failure,
  failure,
  type GetLockResult,
  type GetResult,
  type InputFailure,
  type ListResult,
  type PutResult,
  type ReleaseResult,
  type RenewResult,
  type StaleSequence,
} from "./results.ts";

/**
 * Commands, as they travel in log entries. Entries come from clients over the wire, so the state
 * machine checks every field at run time too: a malformed command yields an `InvalidCommand` (or
 * more precise) result on every replica alike, never an exception.
 */
export type Command =
  | GetCommand
  | ListCommand
  | PutCommand
  | DeleteCommand
  | AcquireCommand
  | RenewCommand
  | ReleaseCommand
  | GetLockCommand;

export interface GetCommand {
  readonly op: "get";
  readonly key: string;
}

export interface ListQuery {
  /** Keys that start with `prefix` ("" lists every key), in key order. */
  readonly prefix: string;
  /** At most this many entries (default and maximum: the `readLimitMax` option). */
  readonly limit?: number;
  /** Resume after this key (exclusive): the last key of the previous page. */
  readonly startAfter?: string;
}
export interface ListCommand extends ListQuery {
  readonly op: "list";
}

export interface PutCommand {
  readonly op: "put";
  readonly key: string;
  readonly value: string;
  /** Compare-and-set: the put applies only if the key's modRevision is this; 0 means "must not exist". */
  readonly expectedModRevision?: number;
}

export interface DeleteCommand {
  readonly op: "delete";
  readonly key: string;
  /** Compare-and-set: the delete applies only if the key's modRevision is this. */
  readonly expectedModRevision?: number;
}

export interface AcquireCommand {
  readonly op: "acquire";
  readonly name: string;
  readonly owner: string;
  readonly ttlMs: number;
}

export interface RenewCommand {
  readonly op: "renew";
  readonly name: string;
  readonly owner: string;
  readonly token: number;
  readonly ttlMs: number;
}

export interface ReleaseCommand {
  readonly op: "release";
  readonly name: string;
  readonly owner: string;
  readonly token: number;
}

export interface GetLockCommand {
  readonly op: "getLock";
  readonly name: string;
}

/** The change-feed read (direct only: watches are served from the applied state, not through the log). */
export interface ChangesQuery {
  /** The first revision wanted (>= 1). */
  readonly fromRevision: number;
  /** Only events whose key starts with this (default "": all). */
  readonly prefix?: string;
  /** At most this many events (default and maximum: the `readLimitMax` option). */
  readonly limit?: number;
  /** Which namespace's events (default "kv"). */
  readonly namespace?: "kv" | "lock";
}

export interface CommandResults {
  get: GetResult;
  list: ListResult;
  put: PutResult;
  delete: DeleteResult;
  acquire: AcquireResult;
  renew: RenewResult;
  release: ReleaseResult;
  getLock: GetLockResult;
}

export type CommandResult = CommandResults[keyof CommandResults] | InputFailure<"InvalidCommand">;

/** The result of a request entry: the command's result, or why the request was not applied. */
export type RequestResult = CommandResult | StaleSequence | InputFailure<"InvalidRequest">;

/** Commands that only read: they bypass the session table (see `sessions.ts`). */
export const readOnlyOperations: ReadonlySet<string> = new Set(["get", "list", "getLock"]);

export interface ClientRequest {
  /** Chosen by the client, unique per client session (e.g. a random UUID). */
  readonly clientId: string;
  /** Increases with every request of this client (gaps allowed); retries reuse the number. */
  readonly sequence: number;
  readonly command: Command;
}

/**
 * A committed log entry for the state machine. Log entries that are not for the state machine
 * (a new leader's no-op, membership and fencing changes) are applied as ticks, so that the
 * applied index stays contiguous and their timestamps still expire locks.
 */
export type LogEntry = ({ readonly type: "request" } & ClientRequest) | { readonly type: "tick" };

/** Where an entry sits in the log: its index and the leader's timestamp (monotone, made so by the Paxos layer). */
export interface ApplyContext {
  readonly index: number;
  readonly timeMs: number;
}

/** Every failure code any result can carry: the HTTP layer maps each one to a status. */
export type FailureCode = Extract<RequestResult | ChangesResult, Failure<string>>["code"];

/**
 * Checks the shape of a command from the wire (an op this code knows, and fields of the right
 * JavaScript types) and returns a fresh command holding only the known fields. The modules check
 * the content (lengths, ranges, characters) and answer with more precise codes.
 */
export function decodeCommand(value: unknown): Command | InputFailure<"InvalidCommand"> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return failure("InvalidCommand", "a command must be a map with an op");
  }
  const fields = value as Readonly<Record<string, unknown>>;
  const op = fields.op;
  const problems: string[] = [];
  const text = (name: string): string => {
    const field = fields[name];
    if (typeof field === "string") return field;
    problems.push(`${name} must be a string`);
    return "";
  };
  const integer = (name: string): number => {
    const field = fields[name];
    if (typeof field === "number") return field;
    problems.push(`${name} must be a number`);
    return 0;
  };
  const optional = <T>(name: string, read: (name: string) => T): { readonly [key: string]: T } =>
    fields[name] === undefined ? {} : { [name]: read(name) };
  let command: Command;
  switch (op) {
    case "get":
      command = { op, key: text("key") };
      break;
    case "list":
      command = {
        op,
        prefix: text("prefix"),
        ...optional("limit", integer),
        ...optional("startAfter", text),
      };
      break;
    case "put":
      command = { op, key: text("key"), value: text("value"), ...optional("expectedModRevision", integer) };
      break;
    case "delete":
      command = { op, key: text("key"), ...optional("expectedModRevision", integer) };
      break;
    case "acquire":
      command = { op, name: text("name"), owner: text("owner"), ttlMs: integer("ttlMs") };
      break;
    case "renew":
      command = {
        op,
        name: text("name"),
        owner: text("owner"),
        token: integer("token"),
        ttlMs: integer("ttlMs"),
      };
      break;
    case "release":
      command = { op, name: text("name"), owner: text("owner"), token: integer("token") };
      break;
    case "getLock":
      command = { op, name: text("name") };
      break;
    default:
      return failure(
        "InvalidCommand",
        typeof op === "string" ? `unknown op ${JSON.stringify(op)}` : "a command must have a string op",
      );
  }
  if (problems.length > 0) return failure("InvalidCommand", `${op}: ${problems.join("; ")}`);
  return command;
}
