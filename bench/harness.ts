/**
 * Shared set-up for benchmarks: the emulator, the app's environment with benchmark-friendly
 * limits, and the request that mints a session.
 *
 * @module
 */
import { startEmulator } from "../emulator/mod.ts";
import type { EmulatorOptions } from "../emulator/options.ts";
import { spawnDeno } from "./proc.ts";

/** The running emulator handle, as `startEmulator` returns it. */
export type Emulator = Awaited<ReturnType<typeof startEmulator>>;

const ROOT = new URL("../", import.meta.url);

/** True when `path` (relative to the repo root) exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(new URL(path, ROOT));
    return true;
  } catch {
    return false;
  }
}

/** True when the local entry point exists (the app can be spawned). */
export function appExists(): Promise<boolean> {
  return exists("start.ts");
}

/** Starts an emulator, runs `fn`, and always closes it. */
export async function withEmulator<T>(
  options: EmulatorOptions,
  fn: (emu: Emulator) => Promise<T>,
): Promise<T> {
  const emu = await startEmulator(options);
  try {
    return await fn(emu);
  } finally {
    await emu.close();
  }
}

/**
 * Environment for an app process pointed at `emu`, with rate limits and budgets high enough that
 * a benchmark is never throttled (the limits themselves are not what is measured).
 */
export function appEnv(
  upstream: { baseUrl: string; apiKey: string },
): Record<string, string> {
  return {
    OPENAI_API_KEY: upstream.apiKey,
    OPENAI_BASE_URL: upstream.baseUrl,
    DATABASE_URL: ":memory:",
    RATE_MINTS_PER_MINUTE_PER_IP: "10000",
    RATE_MINTS_PER_MINUTE: "100000",
    MAX_CONCURRENT_SESSIONS_PER_IP: "1000",
    MAX_CONCURRENT_SESSIONS: "10000",
    DAILY_MINUTES_PER_IP: "1000000",
    DAILY_MINUTES: "10000000",
  };
}

/** The request the page sends to mint a session (`POST /api/session`). */
export function sessionRequest(): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  };
}

/** An emulator running in its own process (so its CPU time and RSS can be read from `/proc`). */
export interface EmulatorProcess {
  baseUrl: string;
  apiKey: string;
  pid: number;
  close: () => Promise<void>;
}

/**
 * Spawns `bench/fixtures/emulator_proc.ts` with `options` and waits until it listens;
 * `restLatencyMs` delays every REST answer (the emulator's latency fault).
 */
export async function spawnEmulator(
  options: EmulatorOptions = {},
  restLatencyMs = 0,
): Promise<EmulatorProcess> {
  const proc = spawnDeno({
    args: [
      "run",
      "-A",
      new URL("fixtures/emulator_proc.ts", import.meta.url).pathname,
    ],
    env: {
      EMULATOR_OPTIONS: JSON.stringify(options),
      EMULATOR_REST_LATENCY_MS: String(restLatencyMs),
      NO_COLOR: "1",
    },
    readLine: true,
  });
  try {
    const ready = JSON.parse(await proc.firstLine) as {
      baseUrl: string;
      apiKey: string;
    };
    return { ...ready, pid: proc.pid, close: proc.close };
  } catch (error) {
    await proc.close();
    throw new Error(
      `Emulator process did not start: ${proc.stderr().slice(-500) || error}`,
    );
  }
}

/** Runs `fn` with up to `limit` calls in flight; results keep the input order. */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, worker),
  );
  return out;
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The app running in its own process (`bench/fixtures/app_proc.ts`). */
export interface AppProcess {
  baseUrl: string;
  pid: number;
  close: () => Promise<void>;
}

/**
 * Spawns the app against `upstream` (the emulator or the relay) with a fresh SQLite file in a
 * temporary directory (removed on close), and waits until it listens.
 */
export async function spawnApp(
  upstream: { baseUrl: string; apiKey: string },
  extraEnv: Record<string, string> = {},
): Promise<AppProcess> {
  const dir = await Deno.makeTempDir({ prefix: "bench-app-" });
  const proc = spawnDeno({
    args: [
      "run",
      "-A",
      new URL("fixtures/app_proc.ts", import.meta.url).pathname,
    ],
    env: {
      ...appEnv(upstream),
      PORT: "0",
      BENCH_DATABASE_URL: `file:${dir}/app.db`,
      NO_COLOR: "1",
      ...extraEnv,
    },
    readLine: true,
  });
  const close = async () => {
    await proc.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    const ready = JSON.parse(await proc.firstLine) as { baseUrl: string };
    return { baseUrl: ready.baseUrl, pid: proc.pid, close };
  } catch (error) {
    await close();
    throw new Error(
      `App process did not start: ${proc.stderr().slice(-800) || error}`,
    );
  }
}

/** A bare pass-through proxy to `client_secrets` (`bench/fixtures/proxy_serve.ts`). */
export async function spawnProxy(upstream: { baseUrl: string }): Promise<AppProcess> {
  const proc = spawnDeno({
    args: ["run", "-A", new URL("fixtures/proxy_serve.ts", import.meta.url).pathname],
    env: { UPSTREAM_URL: upstream.baseUrl, NO_COLOR: "1" },
    readLine: true,
  });
  try {
    const ready = JSON.parse(await proc.firstLine) as { baseUrl: string };
    return { baseUrl: ready.baseUrl, pid: proc.pid, close: proc.close };
  } catch (error) {
    await proc.close();
    throw new Error(`Proxy process did not start: ${proc.stderr().slice(-500) || error}`);
  }
}

/**
 * Things to close at the end of a benchmark, closed in reverse order even when a later start-up
 * step throws (so a failed `spawnApp` never leaves its emulator running).
 */
export class Resources {
  #items: Array<() => Promise<void>> = [];

  /** Registers `resource` (anything with `close()`) and returns it. */
  use<T extends { close: () => Promise<void> }>(resource: T): T {
    this.#items.push(() => resource.close());
    return resource;
  }

  /** Closes everything registered, newest first; errors are ignored so all get closed. */
  async close(): Promise<void> {
    for (const close of this.#items.splice(0).reverse()) {
      await close().catch(() => {});
    }
  }
}
