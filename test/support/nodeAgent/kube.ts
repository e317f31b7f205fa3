// Small helpers over @kubernetes/client-node shared by the agent's modules.
import { ApiException, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";

export const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export function hasStatus(error: unknown, code: number): boolean {
  return error instanceof ApiException && error.code === code;
}

export function describeError(error: unknown): string {
  if (error instanceof ApiException) {
    const body = typeof error.body === "string" ? error.body : JSON.stringify(error.body);
    return `HTTP ${error.code}: ${(body ?? "").slice(0, 300)}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** metav1.MicroTime wants six fractional digits. */
export function microTime(date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export function ignoreStatus(...codes: number[]): (error: unknown) => undefined {
  return (error: unknown) => {
    if (codes.some((code) => hasStatus(error, code))) return undefined;
    throw error;
  };
}
