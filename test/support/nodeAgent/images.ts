// Which local program stands in for a container image: the agent has no container
// runtime, so an image name maps to a command line on this machine.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface ImageCommand {
  /** The image's entrypoint: argv[0] and its fixed arguments. */
  command: string[];
  /** The image's default arguments, used when the container sets neither command nor args. */
  args?: string[];
  workingDir?: string;
}

/** Keys are images with or without their tag or digest: "ghcr.io/x/replica" or "ghcr.io/x/replica:0.1.0". */
export type ImageMap = Readonly<Record<string, ImageCommand>>;

const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** The repository of an image reference, without its tag and digest. */
export function imageRepository(image: string): string {
  const withoutDigest = image.split("@")[0] ?? image;
  const lastSlash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.lastIndexOf(":");
  // A colon before the last slash belongs to a registry port ("localhost:5000/x").
  return colon > lastSlash ? withoutDigest.slice(0, colon) : withoutDigest;
}

/**
 * The command for an image: an exact match first, then the repository, then the
 * built-in default (any repository ending in "/replica" is the replica binary of this
 * repository, run with the Node that runs the agent).
 */
export function resolveImage(images: ImageMap, image: string): ImageCommand | undefined {
  const exact = images[image];
  if (exact !== undefined) return exact;
  const repository = imageRepository(image);
  const byRepository = images[repository];
  if (byRepository !== undefined) return byRepository;
  if (repository.endsWith("/replica") || repository === "replica")
    return {
      command: [process.execPath, join(repositoryRoot, "replica", "src", "main.ts")],
      workingDir: repositoryRoot,
    };
  return undefined;
}

/**
 * The argv of a container as the kubelet computes it: the container's command replaces the
 * image's entrypoint (and drops the image's default args); the container's args replace the
 * image's default args.
 */
export function containerArgv(
  image: ImageCommand | undefined,
  container: { command?: string[]; args?: string[] },
): string[] | undefined {
  if (container.command !== undefined && container.command.length > 0)
    return [...container.command, ...(container.args ?? [])];
  if (image === undefined) return undefined;
  return [...image.command, ...(container.args ?? image.args ?? [])];
}
