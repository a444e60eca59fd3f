/**
 * The offline OpenAI Realtime API emulator. Start it in-process with
 * {@linkcode startEmulator}; see docs/emulator.md.
 *
 * @example
 * ```ts
 * import { startEmulator } from "./emulator/mod.ts";
 * const emu = await startEmulator({ firstDeltaDelayMs: 20, completedDelayMs: 40 });
 * await emu.control.queueTranscripts(["hello world"]);
 * // … point the app at emu.baseUrl with emu.apiKey …
 * await emu.close();
 * ```
 *
 * @module
 */
import { createHandler } from "./server.ts";
import { type EmulatorOptions, resolveOptions } from "./options.ts";
import { EmulatorState, type RequestRecord } from "./state.ts";
import { describeCall } from "./control.ts";
import type { RestFailure } from "./faults.ts";

export type { EmulatorOptions } from "./options.ts";
export { DEFAULT_API_KEY } from "./options.ts";

/** In-process shortcuts to the control API (same effects as the `/_emulator/` endpoints). */
export interface EmulatorControl {
  /** Queues transcript texts (globally, or for one call / session id). */
  queueTranscripts(texts: string[], callId?: string): void;
  /** Queues translated texts of one output language (globally, or for one call / session id). */
  queueTranslations(language: string, texts: string[], callId?: string): void;
  /** Lists calls as `GET /_emulator/calls` does. */
  calls(): Record<string, unknown>[];
  /** Queues REST failures. */
  failRest(failure: Omit<RestFailure, "count"> & { count?: number }): void;
  /** Direct access to the fault switches. */
  faults: EmulatorState["faults"];
  /** Per-model switches: `omitLogprobs`, `refuse` (as `/_emulator/models`). */
  models: EmulatorState["models"];
  /** The latest REST answers, as `GET /_emulator/requests` (optionally only those to `path`). */
  requests(path?: string): RequestRecord[];
  /** Ends every call and clears queues, secrets and faults. */
  reset(): Promise<void>;
  /** The raw state (for benchmarks and white-box tests). */
  state: EmulatorState;
}

/** A running emulator. */
export interface RunningEmulator {
  /** `http://127.0.0.1:<port>` — use as the OpenAI base URL (paths start with `/v1/`). */
  baseUrl: string;
  /** The accepted standard API key. */
  apiKey: string;
  /** Stops the server, ends every call and closes every socket. */
  close(): Promise<void>;
  /** Control shortcuts. */
  control: EmulatorControl;
}

/** Starts the emulator on `hostname:port` (defaults 127.0.0.1:0). */
export async function startEmulator(
  options: EmulatorOptions = {},
): Promise<RunningEmulator> {
  const opts = resolveOptions(options);
  const state = new EmulatorState(opts);
  const handler = createHandler(state);
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: opts.hostname,
    port: opts.port,
    onListen: (addr) => resolve(addr as Deno.NetAddr),
  }, handler);
  const addr = await listening;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  let closed = false;
  return {
    baseUrl: `http://${host}:${addr.port}`,
    apiKey: opts.apiKey,
    async close() {
      if (closed) return;
      closed = true;
      state.shutdown.abort();
      await state.reset();
      await server.shutdown();
      await Promise.allSettled([...state.tasks]);
    },
    control: {
      queueTranscripts: (texts, callId) => state.transcripts.push(texts, callId),
      queueTranslations: (language, texts, callId) =>
        state.transcripts.push(texts, callId, language),
      calls: () => [...state.calls.values()].map(describeCall),
      failRest: (f) => state.faults.rest.push({ ...f, count: f.count ?? 1 }),
      faults: state.faults,
      models: state.models,
      requests: (path) => state.requests.filter((r) => path === undefined || r.path === path),
      reset: () => state.reset(),
      state,
    },
  };
}
