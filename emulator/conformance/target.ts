/**
 * Which API a conformance run talks to: the emulator (default; started in-process) or OpenAI
 * (`--live`, with `OPENAI_API_KEY`). {@linkcode selectTarget} is pure so the choice is tested.
 *
 * @module
 */
import { type EmulatorOptions, type RunningEmulator, startEmulator } from "../mod.ts";
import { FAST } from "../testkit.ts";
import type { TargetKind } from "./types.ts";

/** OpenAI's API, the `--live` target. */
export const LIVE_BASE_URL = "https://api.openai.com";

/** What the command line asked for. */
export interface RunSelection {
  kind: TargetKind;
  /** The live key (only for `--live`). */
  apiKey: string | null;
  /** Only cases whose id starts with one of these (empty = all). */
  only: string[];
  /** Where to write `<out>.md` and `<out>.json`; null = no report file. */
  out: string | null;
  /** `--help` was given. */
  help: boolean;
}

/** The command-line help. */
export const USAGE = `Usage: deno task conformance [--live] [--only <prefix>]... [--out <path>]

Runs the Realtime protocol cases and prints case | expected | observed | source.

  (default)        against the emulator, started in-process (no key, no network)
  --live           against OpenAI (${LIVE_BASE_URL}) with OPENAI_API_KEY from the environment;
                   prints the estimated cost first and writes a report (default
                   conformance-live.md / .json)
  --only <prefix>  run only cases whose id starts with <prefix> (repeatable)
  --out <path>     write the report to <path>.md and <path>.json`;

/** A command line the suite cannot run. */
export class SelectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SelectionError";
  }
}

/**
 * Reads the command line and environment. Only `--live` needs (and reads) `OPENAI_API_KEY`.
 *
 * @throws {SelectionError} for an unknown flag, a flag without its value, or `--live` without a key.
 */
export function selectTarget(
  args: readonly string[],
  env: (name: string) => string | undefined,
): RunSelection {
  const sel: RunSelection = { kind: "emulator", apiKey: null, only: [], out: null, help: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined || v.startsWith("--")) {
        throw new SelectionError(`${a} needs a value`);
      }
      return v;
    };
    if (a === "--live") sel.kind = "live";
    else if (a === "--only") sel.only.push(value());
    else if (a === "--out") sel.out = value();
    else if (a === "--help" || a === "-h") sel.help = true;
    else throw new SelectionError(`Unknown argument "${a}"`);
  }
  if (sel.kind === "live" && !sel.help) {
    const key = env("OPENAI_API_KEY")?.trim();
    if (!key) {
      throw new SelectionError(
        "--live needs OPENAI_API_KEY (a standard API key) in the environment",
      );
    }
    if (!/^sk-/.test(key)) {
      throw new SelectionError("OPENAI_API_KEY does not look like a standard API key (sk-…)");
    }
    sel.apiKey = key;
    sel.out ??= "conformance-live";
  }
  return sel;
}

/** A target the cases talk to. */
export interface Target {
  kind: TargetKind;
  /** `http(s)://host` — paths start with `/v1/`. */
  baseUrl: string;
  /** The standard key. */
  apiKey: string;
  /** The in-process emulator (emulator target only). */
  emulator: RunningEmulator | null;
  close(): Promise<void>;
}

/**
 * Opens the selected target; the emulator starts with fast latencies and `emulatorOptions` (the
 * suite's own test uses them to prove a deviating emulator fails).
 */
export async function openTarget(
  sel: Pick<RunSelection, "kind" | "apiKey">,
  emulatorOptions: EmulatorOptions = {},
): Promise<Target> {
  if (sel.kind === "live") {
    return {
      kind: "live",
      baseUrl: LIVE_BASE_URL,
      apiKey: sel.apiKey!,
      emulator: null,
      close: () => Promise.resolve(),
    };
  }
  const emu = await startEmulator({ ...FAST, ...emulatorOptions });
  return {
    kind: "emulator",
    baseUrl: emu.baseUrl,
    apiKey: emu.apiKey,
    emulator: emu,
    close: () => emu.close(),
  };
}
