import { setTimeout as sleep } from "node:timers/promises";

export interface WaitOptions {
  /** What we wait for, as it should read in an error: "kube-apiserver to be ready". */
  description: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Checked every round; a string return aborts the wait with that reason. */
  abortIf?: () => string | undefined;
}

/** Polls `probe` until it returns a value other than undefined. */
export async function waitFor<T>(probe: () => Promise<T | undefined>, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    const abortReason = options.abortIf?.();
    if (abortReason !== undefined)
      throw new Error(`gave up waiting for ${options.description}: ${abortReason}`);
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.description}${detail}`);
    }
    await sleep(options.intervalMs ?? 200);
  }
}
