// The restart backoff of a crashing container: the kubelet waits 10 s, doubling up to 5
// minutes, and forgets the backoff once a container ran long enough. The agent uses the
// same shape with shorter defaults, so tests see restarts quickly.

export interface RestartBackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const defaultRestartBackoff: RestartBackoffOptions = { initialMs: 1000, maxMs: 30_000 };

export interface BackoffState {
  /** Restarts since the backoff was last reset. */
  restartsInARow: number;
}

/**
 * The delay before the next start of a container that just exited after running for
 * `ranForMs`, and the new state. A run longer than twice the maximum delay resets it.
 */
export function nextRestart(
  state: BackoffState,
  ranForMs: number,
  options: RestartBackoffOptions,
): { delayMs: number; state: BackoffState } {
  const restartsInARow = ranForMs > 2 * options.maxMs ? 1 : state.restartsInARow + 1;
  const delayMs = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(restartsInARow - 1, 30));
  return { delayMs, state: { restartsInARow } };
}

export type RestartPolicy = "Always" | "OnFailure" | "Never";

export function shouldRestart(policy: RestartPolicy, exitCode: number): boolean {
  return policy === "Always" || (policy === "OnFailure" && exitCode !== 0);
}
