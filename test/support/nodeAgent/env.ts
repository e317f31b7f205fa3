// A container's environment and the `$(VAR)` expansion of its command, args and env
// values, as the kubelet does them. Pure: Secrets and ConfigMaps come in through lookups.
import type { V1Container, V1Pod } from "@kubernetes/client-node";

/**
 * Kubernetes' expansion (third_party/forked/golang/expansion): `$(NAME)` becomes the value
 * of NAME when it is defined and stays as written when not; `$$` is a literal `$`, so
 * `$$(NAME)` gives `$(NAME)`; any other `$` stays.
 */
export function expandVariables(input: string, lookup: (name: string) => string | undefined): string {
  let output = "";
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor += 1) {
    if (input[cursor] !== "$" || cursor + 1 >= input.length) continue;
    output += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    let advance = 1;
    if (next === "$") output += "$";
    else if (next === "(") {
      const close = input.indexOf(")", cursor + 2);
      if (close === -1) output += "$(";
      else {
        const name = input.slice(cursor + 2, close);
        output += lookup(name) ?? `$(${name})`;
        advance = close - cursor;
      }
    } else output += `$${next}`;
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return output + input.slice(checkpoint);
}

/** What env needs from outside the pod spec. Unknown keys return undefined. */
export interface EnvLookups {
  podIP: string | undefined;
  hostIP: string | undefined;
  secret(namespace: string, name: string): Record<string, string> | undefined;
  configMap(namespace: string, name: string): Record<string, string> | undefined;
}

/** Set for every container, as a container runtime does from the image's config. */
export const baseEnvironment: Readonly<Record<string, string>> = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  HOME: "/root",
};

/** `metadata.labels['app']` -> ["labels", "app"]. */
function mapField(path: string): [string, string] | undefined {
  const match = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  return match?.[1] !== undefined && match[2] !== undefined ? [match[1], match[2]] : undefined;
}

export function fieldValue(pod: V1Pod, fieldPath: string, lookups: EnvLookups): string | undefined {
  const keyed = mapField(fieldPath);
  if (keyed !== undefined) {
    const [map, key] = keyed;
    return (map === "labels" ? pod.metadata?.labels : pod.metadata?.annotations)?.[key];
  }
  switch (fieldPath) {
    case "metadata.name":
      return pod.metadata?.name;
    case "metadata.namespace":
      return pod.metadata?.namespace;
    case "metadata.uid":
      return pod.metadata?.uid;
    case "spec.nodeName":
      return pod.spec?.nodeName;
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName ?? "default";
    case "status.podIP":
    case "status.podIPs":
      return lookups.podIP;
    case "status.hostIP":
    case "status.hostIPs":
      return lookups.hostIP;
    default:
      return undefined;
  }
}

export class EnvError extends Error {}

/**
 * The container's environment: envFrom first, then env in order, each value expanded with
 * the variables defined before it (the kubelet's order). A missing Secret, ConfigMap or key
 * that is not optional is an error (the kubelet reports CreateContainerConfigError).
 */
export function containerEnvironment(
  pod: V1Pod,
  container: V1Container,
  lookups: EnvLookups,
): Record<string, string> {
  const namespace = pod.metadata?.namespace ?? "default";
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const ref = source.secretRef ?? source.configMapRef;
    if (ref?.name === undefined) continue;
    const data =
      source.secretRef !== undefined
        ? lookups.secret(namespace, ref.name)
        : lookups.configMap(namespace, ref.name);
    if (data === undefined) {
      if (ref.optional === true) continue;
      throw new EnvError(`${source.secretRef ? "secret" : "configmap"} "${ref.name}" not found`);
    }
    for (const [key, value] of Object.entries(data)) env[`${source.prefix ?? ""}${key}`] = value;
  }
  const lookup = (name: string) => (Object.hasOwn(env, name) ? env[name] : undefined);
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    if (from === undefined) {
      env[variable.name] = expandVariables(variable.value ?? "", lookup);
      continue;
    }
    let value: string | undefined;
    if (from.fieldRef !== undefined) value = fieldValue(pod, from.fieldRef.fieldPath, lookups) ?? "";
    else if (from.secretKeyRef !== undefined || from.configMapKeyRef !== undefined) {
      const ref = from.secretKeyRef ?? from.configMapKeyRef;
      const kind = from.secretKeyRef !== undefined ? "secret" : "configmap";
      const data =
        ref?.name === undefined
          ? undefined
          : kind === "secret"
            ? lookups.secret(namespace, ref.name)
            : lookups.configMap(namespace, ref.name);
      value = ref === undefined ? undefined : data?.[ref.key];
      if (value === undefined) {
        if (ref?.optional === true) continue;
        throw new EnvError(
          data === undefined
            ? `${kind} "${ref?.name}" not found`
            : `couldn't find key ${ref?.key} in ${kind} ${namespace}/${ref?.name}`,
        );
      }
    } else if (from.resourceFieldRef !== undefined) value = "0";
    env[variable.name] = value ?? "";
  }
  return env;
}

/** The container's final argv with `$(VAR)` expanded from its environment. */
export function expandArgv(argv: readonly string[], env: Readonly<Record<string, string>>): string[] {
  return argv.map((part) =>
    expandVariables(part, (name) => (Object.hasOwn(env, name) ? env[name] : undefined)),
  );
}
