// Static checks of images/*.Dockerfile and .dockerignore (no Docker here): the images pin
// the Node release the project is tested on, run as the replica's user, install only the
// runtime packages, and contain every file their program imports and nothing excluded.
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { replicaUserId } from "../operator/src/builders/statefulSet.ts";

const root = resolve(import.meta.dirname, "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");

const images = [
  { name: "replica", sourceDir: "replica/src", entry: "replica/src/main.ts" },
  { name: "operator", sourceDir: "operator/src", entry: "operator/src/main.ts" },
] as const;

/** The specifiers a TypeScript module imports or re-exports, static and dynamic. */
function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\s[^;]*?\sfrom\s+"([^"]+)"/gms,
    /^\s*import\s+"([^"]+)"/gm,
    /\bimport\(\s*"([^"]+)"\s*\)/g,
  ];
  for (const pattern of patterns)
    for (const match of source.matchAll(pattern)) specifiers.push(match[1] ?? "");
  return specifiers;
}

/** Every file reachable from `entry` by relative imports, and every package it imports. */
function importGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = [entry];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (files.has(file)) continue;
    files.add(file);
    for (const specifier of importsOf(read(file))) {
      if (specifier.startsWith(".")) pending.push(relative(root, resolve(root, dirname(file), specifier)));
      else if (!specifier.startsWith("node:") && !builtinModules.includes(specifier)) {
        const parts = specifier.split("/");
        packages.add(specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier));
      }
    }
  }
  return { files, packages };
}

/** The `**\/<glob>` lines of .dockerignore, as tests on a file's base name. */
function excludedBaseNames(): RegExp[] {
  return read(".dockerignore")
    .split("\n")
    .filter((line) => line.startsWith("**/"))
    .map((line) => {
      const glob = line.slice(3).trim();
      const escaped = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*");
      return new RegExp(`(^|/)${escaped}$`);
    });
}

function nodeVersionPinned(): string {
  const match = /^NODE_VERSION_PINNED=(\S+)$/m.exec(read("hack/node.sh"));
  if (match?.[1] === undefined) throw new Error("hack/node.sh has no NODE_VERSION_PINNED line");
  return match[1];
}

describe.each(images)("images/$name.Dockerfile", ({ name, sourceDir, entry }) => {
  const dockerfile = read(`images/${name}.Dockerfile`);
  const stages = dockerfile.split("\n").filter((line) => line.startsWith("FROM "));

  it("builds on the Node release the project is tested on, in two stages", () => {
    expect(dockerfile).toMatch(
      new RegExp(`^ARG NODE_VERSION=${nodeVersionPinned().replaceAll(".", "\\.")}$`, "m"),
    );
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:\$\{NODE_VERSION\}-slim$/m);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile variable, not a template
    expect(stages).toEqual(["FROM ${NODE_IMAGE} AS dependencies", "FROM ${NODE_IMAGE}"]);
  });

  it("installs only the runtime packages, from the lock file", () => {
    expect(dockerfile).toContain("COPY package.json package-lock.json .npmrc ./");
    expect(dockerfile).toMatch(/RUN npm ci --omit=dev /);
    expect(dockerfile).not.toMatch(/npm install/);
    expect(dockerfile).toContain("COPY --from=dependencies /app/node_modules ./node_modules");
  });

  it("copies only its program's sources and runs it as the non-root replica user", () => {
    const copies = dockerfile.split("\n").filter((line) => line.startsWith("COPY "));
    expect(copies).toEqual([
      "COPY package.json package-lock.json .npmrc ./",
      "COPY --from=dependencies /app/node_modules ./node_modules",
      "COPY package.json ./",
      `COPY ${sourceDir} ./${sourceDir}`,
    ]);
    expect(dockerfile).toContain(`USER ${replicaUserId}:${replicaUserId}`);
    expect(dockerfile).toContain(`--uid ${replicaUserId} --gid ${replicaUserId}`);
    expect(dockerfile).toContain(`ENTRYPOINT ["node", "${entry}"]`);
    for (const label of ["title", "source", "version", "revision", "licenses"])
      expect(dockerfile).toContain(`org.opencontainers.image.${label}=`);
  });

  it("contains every module its entry point imports, none of them a test file", () => {
    const { files, packages } = importGraph(entry);
    const excluded = excludedBaseNames();
    expect(files.size).toBeGreaterThan(1);
    for (const file of files) {
      expect(file.startsWith(`${sourceDir}/`), `${entry} imports ${file}, outside ${sourceDir}`).toBe(true);
      expect(
        excluded.some((pattern) => pattern.test(file)),
        `${file} is imported but .dockerignore leaves it out`,
      ).toBe(false);
    }
    const manifest = JSON.parse(read("package.json")) as { dependencies: Record<string, string> };
    for (const name of packages)
      expect(Object.keys(manifest.dependencies), `${name} must be a runtime dependency`).toContain(name);
  });
});

describe(".dockerignore", () => {
  const lines = read(".dockerignore")
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"));

  it("starts from nothing and lets in only the package files and the two programs", () => {
    expect(lines[0]).toBe("*");
    expect(lines.filter((line) => line.startsWith("!"))).toEqual([
      "!package.json",
      "!package-lock.json",
      "!.npmrc",
      "!replica/src/",
      "!operator/src/",
    ]);
  });

  it("leaves out tests, fixtures and benchmarks", () => {
    const excluded = excludedBaseNames();
    for (const file of [
      "replica/src/config.test.ts",
      "operator/src/builders/testFixtures.ts",
      "replica/src/storage/bench.ts",
    ])
      expect(excluded.some((pattern) => pattern.test(file))).toBe(true);
    expect(excluded.some((pattern) => pattern.test("replica/src/main.ts"))).toBe(false);
  });
});
