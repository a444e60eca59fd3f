/**
 * Reads the app's own files (the page, shared modules). Locally they come from disk next to this
 * repository; on Val Town there is no filesystem, so they come through Val Town's std utils
 * (`readFile(path, import.meta.url)`), which is imported dynamically and only there.
 *
 * @module
 */
import type { Platform } from "./config.ts";

/** Reads one file by its path relative to the project root (e.g. `frontend/app.js`). */
export type FileReader = (path: string) => Promise<Uint8Array>;

/** Thrown when a file does not exist or its path is not allowed. */
export class FileNotFoundError extends Error {
  constructor(path: string) {
    super(`Cannot read file "${path}": not found`);
    this.name = "FileNotFoundError";
  }
}

/** Options for {@linkcode createFileReader}. */
export interface FileReaderOptions {
  /** `local` reads from disk; `valtown` uses std/utils. */
  platform: Platform;
  /** Project root for local reads; defaults to the directory above `lib/`. */
  root?: URL;
}

/** Val Town's std utils, pinned (the same version hello-realtime uses). */
export const VALTOWN_UTILS_URL = "https://esm.town/v/std/utils@85-main/index.ts";

/** True when `path` is a plain relative path inside the project (no `..`, no absolute, no `\`). */
export function isSafePath(path: string): boolean {
  // Bounded so a name the filesystem refuses (ENAMETOOLONG) is a plain 404, never a 5xx.
  return path.length <= 200 && /^[A-Za-z0-9_][A-Za-z0-9._\-/]*$/.test(path) &&
    !path.split("/").some((seg) => seg === "" || seg === "." || seg === "..");
}

/**
 * Builds the file reader for a platform.
 *
 * @example
 * ```ts
 * const readFile = createFileReader({ platform: "local" });
 * const html = new TextDecoder().decode(await readFile("frontend/index.html"));
 * ```
 */
export function createFileReader(options: FileReaderOptions): FileReader {
  if (options.platform === "valtown") {
    let utils:
      | Promise<
        { readFile: (path: string, metaUrl?: string) => Promise<string> }
      >
      | null = null;
    return async (path) => {
      if (!isSafePath(path)) throw new FileNotFoundError(path);
      utils ??= import(VALTOWN_UTILS_URL);
      let text: string;
      try {
        text = await (await utils).readFile(`/${path}`, import.meta.url);
      } catch {
        throw new FileNotFoundError(path);
      }
      if (typeof text !== "string") throw new FileNotFoundError(path);
      return new TextEncoder().encode(text);
    };
  }
  const root = options.root ?? new URL("../", import.meta.url);
  return async (path) => {
    if (!isSafePath(path)) throw new FileNotFoundError(path);
    try {
      return await Deno.readFile(new URL(path, root));
    } catch (err) {
      if (
        err instanceof Deno.errors.NotFound ||
        err instanceof Deno.errors.IsADirectory
      ) {
        throw new FileNotFoundError(path);
      }
      throw err;
    }
  };
}
