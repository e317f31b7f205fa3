import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { hiddenPaths, keptPathsDir, launchArgv, launchScript, orderMounts, shellQuote } from "./launch.ts";

describe("launch", () => {
  it("quotes for the shell", () => {
    expect(shellQuote("/a/b-c.d")).toBe("/a/b-c.d");
    expect(shellQuote("it's $x")).toBe("'it'\\''s $x'");
    expect(execFileSync("/bin/sh", ["-c", `printf %s ${shellQuote("it's $x `y`")}`]).toString()).toBe(
      "it's $x `y`",
    );
  });

  it("mounts parents first and anything hiding another source last", () => {
    const mounts = [
      { source: "/tmp/state/pods/a/volumes/tmp", target: "/tmp", readOnly: false },
      { source: "/tmp/state/pods/a/volumes/auth", target: "/etc/paxos/auth", readOnly: true },
      { source: "/tmp/state/volumes/pv-1", target: "/data", readOnly: false },
      { source: "/tmp/state/volumes/pv-2", target: "/data/sub", readOnly: false },
    ];
    expect(orderMounts(mounts).map((m) => m.target)).toEqual([
      "/data",
      "/data/sub",
      "/etc/paxos/auth",
      "/tmp",
    ]);
  });

  it("carries the program's directories over a volume that would hide them", () => {
    const mounts = [
      { source: "/state/pods/a/tmp", target: "/tmp", readOnly: false },
      { source: "/state/volumes/pv-1", target: "/data", readOnly: false },
    ];
    expect(hiddenPaths(mounts, ["/tmp/clone/replica/src", "/tmp/clone", "/usr/bin"])).toEqual(["/tmp/clone"]);
    const script = launchScript(
      { hostname: "h", hostsFile: "/h", resolvConf: "/r", mounts, workingDir: "/tmp/clone" },
      ["/tmp/clone"],
    ).split("\n");
    const aside = script.indexOf(`mount --bind /tmp/clone ${keptPathsDir}/0`);
    const volume = script.indexOf("mount --bind /state/pods/a/tmp /tmp");
    const back = script.indexOf(`mount --bind ${keptPathsDir}/0 /tmp/clone`);
    expect(aside).toBeGreaterThan(0);
    expect(volume).toBeGreaterThan(aside);
    expect(back).toBeGreaterThan(volume);
    expect(script.indexOf("cd /tmp/clone")).toBeGreaterThan(back);
  });

  it("keeps only the program and working directory visible, not the container's path arguments", () => {
    const argv = launchArgv({
      netnsPath: "/run/netns/x",
      hostname: "h",
      hostsFile: "/h",
      resolvConf: "/r",
      mounts: [{ source: "/state/pv", target: "/data", readOnly: false }],
      argv: ["/usr/bin/node", "/data/app/main.ts", "--out", "/data/out"],
    });
    const script = argv[argv.indexOf("-c") + 1] ?? "";
    // The script under /data is the program's and is carried over; /data/out is not.
    expect(script).toContain(`mount --bind /data/app ${keptPathsDir}/0`);
    expect(script).not.toContain("/data/out");
  });

  it("builds an exec chain that ends in the container's argv", () => {
    const argv = launchArgv({
      netnsPath: "/run/netns/pxa1-1",
      hostname: "demo-0",
      hostsFile: "/s/hosts",
      resolvConf: "/s/resolv.conf",
      mounts: [{ source: "/s/auth", target: "/etc/auth", readOnly: true }],
      workingDir: "/work dir",
      argv: ["/usr/bin/node", "main.ts", "--name=demo-0"],
    });
    expect(argv.slice(0, 5)).toEqual(["/usr/bin/setpriv", "--pdeathsig", "KILL", "--", "nsenter"]);
    expect(argv.slice(-4)).toEqual(["sh", "/usr/bin/node", "main.ts", "--name=demo-0"]);
    const script = argv[argv.length - 5] ?? "";
    expect(script).toContain("mount --bind /s/hosts /etc/hosts");
    expect(script).toContain("mount -o remount,bind,ro /etc/auth");
    expect(script).toContain("cd '/work dir'");
    expect(script.endsWith('exec "$@"')).toBe(true);
    expect(launchScript({ hostname: "h", hostsFile: "/h", resolvConf: "/r", mounts: [] }, [])).not.toContain(
      "cd ",
    );
  });
});
