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
 * of another mount, or a path that must stay visible (the program itself), goes after
 * everything else: an emptyDir on /tmp must not hide a state directory under /tmp.
 */
export function orderMounts(mounts: readonly Mount[], keepVisible: readonly string[] = []): Mount[] {
  const depth = (mount: Mount) => mount.target.split("/").filter(Boolean).length;
  const hides = (mount: Mount) =>
    mounts.some((other) => other !== mount && isWithin(other.source, mount.target)) ||
    keepVisible.some((path) => isWithin(path, mount.target));
  const sorted = [...mounts].sort((a, b) => depth(a) - depth(b));
  return [...sorted.filter((m) => !hides(m)), ...sorted.filter(hides)];
}

export function launchScript(
  spec: Omit<LaunchSpec, "netnsPath" | "argv">,
  keepVisible: readonly string[],
): string {
  const q = shellQuote;
  const lines = [
    "set -e",
    `hostname ${q(spec.hostname)}`,
    `mount --bind ${q(spec.hostsFile)} /etc/hosts`,
    `if [ -e /etc/resolv.conf ]; then mount --bind ${q(spec.resolvConf)} /etc/resolv.conf; fi`,
  ];
  for (const mount of orderMounts(spec.mounts, keepVisible)) {
    lines.push(`mount --bind ${q(mount.source)} ${q(mount.target)}`);
    if (mount.readOnly) lines.push(`mount -o remount,bind,ro ${q(mount.target)}`);
  }
  if (spec.workingDir !== undefined) lines.push(`cd ${q(spec.workingDir)}`);
  lines.push('exec "$@"');
  return lines.join("\n");
}

/** argv for spawn(); the container's own argv comes last, as the script's "$@". */
export function launchArgv(spec: LaunchSpec): string[] {
  const program = spec.argv[0];
  const keepVisible = program?.startsWith("/")
    ? [program, ...spec.argv.slice(1).filter((a) => a.startsWith("/"))]
    : [];
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
    launchScript(spec, keepVisible),
    "sh",
    ...spec.argv,
  ];
}
