/**
 * Starts the whole app on loopback (port 0) against an in-process Realtime emulator and a
 * `:memory:` libSQL store, for tests that go through real HTTP, WebSockets and SQLite.
 *
 * @example
 * ```ts
 * const t = await startTestApp();
 * try {
 *   const res = await fetch(`${t.baseUrl}/api/config`);
 *   console.log(await res.json());
 * } finally {
 *   await t.close();
 * }
 * ```
 *
 * @module
 */
import type { AppDeps, Logger } from "../lib/deps.ts";
import { createApp } from "../app.ts";
import { setUp } from "../lib/setup.ts";
import { type EmulatorOptions, type RunningEmulator, startEmulator } from "../emulator/mod.ts";
import { openStore } from "../lib/store/mod.ts";
import type { Store } from "../lib/store/types.ts";
import type { SidebandRegistry } from "../lib/sideband_registry.ts";
import { createFileReader } from "../lib/files.ts";
import type { Platform } from "../lib/config.ts";

/** One captured log line. */
export interface LogLine {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}

/** Options for {@linkcode startTestApp}. */
export interface TestAppOptions {
  /** Extra environment variables (e.g. `TRANSCRIPTION_PROMPT`, `MAX_SESSION_SECONDS`). */
  env?: Record<string, string>;
  /** Emulator options; defaults make transcripts arrive within ~50 ms. */
  emulator?: EmulatorOptions;
  /** Start without `OPENAI_API_KEY` (the "no key" page); the emulator still runs. */
  noKey?: boolean;
  /** Database URL; default `:memory:`. */
  databaseUrl?: string;
  /** Print log lines to stderr as well as capturing them. */
  verbose?: boolean;
  /** Platform the config claims (files are still read from disk). Default `local`. */
  platform?: Platform;
  /** Mark the run as the offline demo (as `start.ts` does without a key). */
  demo?: boolean;
  /** Wraps the store the app gets (e.g. to make one method fail); `TestApp.store` stays the real one. */
  wrapStore?: (store: Store) => Store;
}

/** A running test app. */
export interface TestApp {
  /** `http://127.0.0.1:<port>`. */
  baseUrl: string;
  emulator: RunningEmulator;
  store: Store;
  deps: AppDeps;
  sidebands: SidebandRegistry;
  /** Every log line the app wrote. */
  logs: LogLine[];
  /** Stops sidebands, the server, the store and the emulator. Safe to call twice. */
  close(): Promise<void>;
}

/** Starts the app and its emulator; always `close()` it in a `finally`. */
export async function startTestApp(
  options: TestAppOptions = {},
): Promise<TestApp> {
  const emulator = await startEmulator({
    firstDeltaDelayMs: 10,
    completedDelayMs: 30,
    sessionUpdatedDelayMs: 0,
    ...options.emulator,
  });
  const logs: LogLine[] = [];
  const log: Logger = (level, message, fields) => {
    logs.push({ level, message, fields });
    if (options.verbose) {
      console.error(`[app] ${level} ${message}`, JSON.stringify(fields ?? {}));
    }
  };
  let store: Store | null = null;
  let server: Deno.HttpServer | null = null;
  try {
    const env: Record<string, string | undefined> = {
      OPENAI_BASE_URL: emulator.baseUrl,
      OPENAI_API_KEY: options.noKey ? undefined : emulator.apiKey,
      SIGNING_SECRET: "test-signing-secret-0123456789",
      INTERNAL_SECRET: "test-internal-secret-0123456789",
      ...options.env,
    };
    const databaseUrl = options.databaseUrl ?? ":memory:";
    const { loadConfig } = await import("../lib/config.ts");
    store = await openStore(await loadConfig(env, { platform: "local" }), {
      url: databaseUrl,
    });
    const deps = await setUp({
      env,
      platform: options.platform ?? "local",
      demo: options.demo ?? false,
      store: options.wrapStore ? options.wrapStore(store) : store,
      log,
      readFile: createFileReader({ platform: "local" }),
    });
    const app = createApp(deps);
    const { promise: listening, resolve } = Promise.withResolvers<
      Deno.NetAddr
    >();
    server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: (addr) => resolve(addr as Deno.NetAddr),
    }, app.fetch);
    const addr = await listening;
    deps.ownOrigin.listening(addr);
    const sidebands = deps.sidebands;
    let closed = false;
    const liveServer = server;
    const liveStore = store;
    return {
      baseUrl: `http://127.0.0.1:${addr.port}`,
      emulator,
      store: liveStore,
      deps,
      sidebands,
      logs,
      async close() {
        if (closed) return;
        closed = true;
        await sidebands.shutdown();
        await liveServer.shutdown();
        await emulator.close();
        await liveStore.close();
      },
    };
  } catch (err) {
    await server?.shutdown();
    await emulator.close();
    await store?.close();
    throw err;
  }
}

/** Polls `check` every 20 ms until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  options: { timeoutMs?: number; message?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out waiting: ${options.message ?? "condition not met"}`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A werift peer standing in for a browser in server-side tests (no Chromium needed). */
export interface TestPeer {
  /** The offer SDP (audio + `oai-events` data channel). */
  offer: string;
  /** Applies the answer so ICE/DTLS can complete against the emulator. */
  answer(sdp: string): Promise<void>;
  close(): Promise<void>;
}

/** Creates a werift peer with an audio transceiver and the `oai-events` channel, and its offer. */
export async function createTestPeer(): Promise<TestPeer> {
  const { RTCPeerConnection } = await import("npm:werift@0.24.4");
  const pc = new RTCPeerConnection(
    { iceAdditionalHostAddresses: ["127.0.0.1"] } as never,
  );
  pc.addTransceiver("audio", { direction: "sendrecv" });
  pc.createDataChannel("oai-events");
  await pc.setLocalDescription(await pc.createOffer());
  return {
    offer: pc.localDescription!.sdp,
    answer: (sdp) => pc.setRemoteDescription({ type: "answer", sdp }) as Promise<void>,
    close: () => pc.close(),
  };
}

/** A parsed JSON answer. */
export interface JsonAnswer {
  status: number;
  headers: Headers;
  // deno-lint-ignore no-explicit-any
  json: any;
}

/** POSTs `body` (JSON-encoded unless a string) to the app and parses the answer. */
export async function postJson(
  baseUrl: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<JsonAnswer> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { raw: text };
  }
  return { status: res.status, headers: res.headers, json };
}

/** Counts the sessions in the store (for "nothing changed" assertions). */
export async function countSessions(store: Store): Promise<number> {
  return (await store.listSessions({ limit: 1000 })).sessions.length;
}
