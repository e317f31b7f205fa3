// The command line that starts a container's process in its pod: the pod's network
// namespace (nsenter), a private mount and UTS namespace (unshare) where a small shell
// script bind-mounts the pod's hosts file, resolv.conf and volumes, then execs the
// container's argv. Every step execs the next, so the container's process is the one the
// agent spawned: its parent is the agent, and setpriv's parent-death signal (kept across
// these execs) kills it if the agent dies.
//
// The processes run as root (the container's securityContext is not applied): the Node
// binary lives in the tool cache under root's home, and the agent needs root for
// namespaces anyway.

import { dirname } from "node:path";

export interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

export interface LaunchSpec {
  /** /run/netns/<name> */
  netnsPath: string;
  hostname: string;
  hostsFile: string;
  resolvConf: string;
  mounts: readonly Mount[];
  workingDir?: string | undefined;
  argv: readonly string[];
}

export const setprivPath = "/usr/bin/setpriv";

export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}

function isWithin(path: string, directory: string): boolean {
  const dir = directory.endsWith("/") ? directory : `${directory}/`;
  return path === directory || path.startsWith(dir);
}

/**
 * Parents before children (kubelet order), but a mount whose target would hide the source
 * of another mount goes after everything else: an emptyDir on /tmp must not hide a state
 * directory under /tmp before that one is mounted.
 */
export function orderMounts(mounts: readonly Mount[]): Mount[] {
  const depth = (mount: Mount) => mount.target.split("/").filter(Boolean).length;
  const hides = (mount: Mount) =>
    mounts.some((other) => other !== mount && isWithin(other.source, mount.target));
  const sorted = [...mounts].sort((a, b) => depth(a) - depth(b));
  return [...sorted.filter((m) => !hides(m)), ...sorted.filter(hides)];
}

/** Where the launch script parks, inside the pod's mount namespace, what a volume would hide. */
export const keptPathsDir = "/run/paxos-node-agent/kept";

/**
 * The directories the program needs (its files, its working directory) that a volume's
 * target would cover, outermost only. A container has an image of its own; here the
 * "image" is this machine's file system, so an emptyDir on /tmp must not hide a program
 * that lives under /tmp.
 */
export function hiddenPaths(mounts: readonly Mount[], needed: readonly string[]): string[] {
  const hidden = needed.filter((path) => mounts.some((mount) => isWithin(path, mount.target)));
  return [...new Set(hidden)].filter(
    (path, _, all) => !all.some((other) => other !== path && isWithin(path, other)),
  );
}

/**
 * The script run inside the pod's namespaces: hostname, hosts file and resolv.conf, the
 * volumes, then exec. `needed` are the directories the program must still see after the
 * volumes are mounted: each one a volume would hide is bind-mounted aside first and back
 * onto its own path afterwards (a directory made for it in the volume).
 */
export function launchScript(
  spec: Omit<LaunchSpec, "netnsPath" | "argv">,
  needed: readonly string[],
): string {
  const q = shellQuote;
  const kept = hiddenPaths(spec.mounts, needed);
  const lines = [
    "set -e",
    `hostname ${q(spec.hostname)}`,
    `mount --bind ${q(spec.hostsFile)} /etc/hosts`,
    `if [ -e /etc/resolv.conf ]; then mount --bind ${q(spec.resolvConf)} /etc/resolv.conf; fi`,
  ];
  for (const [index, path] of kept.entries())
    lines.push(`mkdir -p ${keptPathsDir}/${index}`, `mount --bind ${q(path)} ${keptPathsDir}/${index}`);
  for (const mount of orderMounts(spec.mounts)) {
    lines.push(`mount --bind ${q(mount.source)} ${q(mount.target)}`);
    if (mount.readOnly) lines.push(`mount -o remount,bind,ro ${q(mount.target)}`);
  }
  for (const [index, path] of kept.entries())
    lines.push(`mkdir -p ${q(path)}`, `mount --bind ${keptPathsDir}/${index} ${q(path)}`);
  if (spec.workingDir !== undefined) lines.push(`cd ${q(spec.workingDir)}`);
  lines.push('exec "$@"');
  return lines.join("\n");
}

/** argv for spawn(); the container's own argv comes last, as the script's "$@". */
export function launchArgv(spec: LaunchSpec): string[] {
  // The program: the interpreter and its script (argv up to the first flag), and the
  // working directory. Later arguments are the container's (a path there may well be a
  // volume's, which must not be covered back).
  const firstFlag = spec.argv.findIndex((argument) => argument.startsWith("-"));
  const program = spec.argv.slice(0, firstFlag === -1 ? spec.argv.length : firstFlag);
  const needed = [
    ...program.filter((argument) => argument.startsWith("/")).map((path) => dirname(path)),
    ...(spec.workingDir === undefined ? [] : [spec.workingDir]),
  ];
  return [
    setprivPath,
    "--pdeathsig",
    "KILL",
    "--",
    "nsenter",
    `--net=${spec.netnsPath}`,
    "--",
    "unshare",
    "--mount",
    "--uts",
    "--propagation",
    "private",
    "--",
    "/bin/sh",
    "-c",
    launchScript(spec, needed),
    "sh",
    ...spec.argv,
  ];
}
