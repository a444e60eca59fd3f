/**
 * Cold start: process start → first 200 of `/` and of `/api/session`, each from a freshly
 * spawned `deno run start.ts` (module cache warm, as on a restarted server). The baseline is a
 * Hono hello-world spawned the same way in the same run (a bare `Deno.serve` one is listed too).
 * A second row set counts the store's round trips (statements and batches at its executor, see
 * `bench/fixtures/counted_start.ts`) before the first byte of `/` (goal 0: the page never waits
 * for the database) and for the first `POST /api/session` on a database whose schema is current.
 *
 * @module
 */
import { freePort, spawnDeno, waitForStatus } from "./proc.ts";
import type { Benchmark } from "./runner.ts";
import { allEqual, type Row } from "./stats.ts";
import { appEnv, appExists, sessionRequest, withEmulator } from "./harness.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** Spawns `args` with `env` + PORT, polls `path` until 200 and returns ms from spawn to it. */
async function startOnce(
  args: string[],
  env: Record<string, string>,
  path: string,
  init?: () => RequestInit,
): Promise<number> {
  const port = freePort();
  const t0 = performance.now();
  const proc = spawnDeno({
    args,
    env: { ...env, PORT: String(port) },
    cwd: ROOT,
  });
  try {
    const t1 = await waitForStatus(`http://127.0.0.1:${port}${path}`, {
      init: init?.(),
      // A process that died (e.g. a module that no longer loads) fails at once, not after 30 s.
      abortReason: () => proc.exited() ? `process exited: ${proc.stderr().slice(-500)}` : null,
    });
    return t1 - t0;
  } finally {
    await proc.close();
  }
}

/** Round trips counted by `bench/fixtures/counted_start.ts`, one sample per fresh process. */
async function countRoundTrips(
  env: Record<string, string>,
  runs: number,
): Promise<{ page: number[]; session: number[] }> {
  const dir = await Deno.makeTempDir({ prefix: "bench-cold-" });
  const page: number[] = [];
  const session: number[] = [];
  try {
    // A file database: the first process migrates it, every measured one finds it current.
    const withFile = { ...env, DATABASE_URL: `file:${dir}/app.db` };
    const args = ["run", "-A", `${ROOT}bench/fixtures/counted_start.ts`];
    for (let i = 0; i <= runs; i++) {
      const port = freePort();
      const proc = spawnDeno({ args, env: { ...withFile, PORT: String(port) }, cwd: ROOT });
      try {
        const base = `http://127.0.0.1:${port}`;
        await waitForStatus(`${base}/`, {
          abortReason: () => proc.exited() ? `process exited: ${proc.stderr().slice(-500)}` : null,
        });
        await waitForStatus(`${base}/api/session`, { init: sessionRequest() });
        const seen = await (await fetch(`${base}/_bench/round_trips`)).json();
        if (i > 0) { // the first run created the schema
          page.push(seen.page);
          session.push(seen.session);
        }
      } finally {
        await proc.close();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  return { page, session };
}

/** Cold-start benchmark (see module doc). */
export const coldStart: Benchmark = {
  name: "cold_start",
  description:
    "process spawn → first 200 of / and /api/session (baseline: Hono hello-world); store round trips",
  async run(ctx) {
    const runs = ctx.quick ? 3 : 7;
    const baseEnv = { DENO_TLS_CA_STORE: "mozilla,system", NO_COLOR: "1" };
    const bare = ["run", "-A", `${ROOT}bench/fixtures/hello_serve.ts`];
    const hono = ["run", "-A", `${ROOT}bench/fixtures/hono_hello.ts`];
    // Warm-up: fills Deno's module and V8 code caches so every measured run is alike.
    await startOnce(bare, baseEnv, "/");
    await startOnce(hono, baseEnv, "/");
    const bareSamples: number[] = [];
    const baseline: number[] = [];
    for (let i = 0; i < runs; i++) {
      bareSamples.push(await startOnce(bare, baseEnv, "/"));
      baseline.push(await startOnce(hono, baseEnv, "/"));
    }
    ctx.log(`Deno.serve hello-world: ${bareSamples.map((v) => v.toFixed(0)).join(", ")} ms`);
    ctx.log(`Hono hello-world: ${baseline.map((v) => v.toFixed(0)).join(", ")} ms`);
    if (!await appExists()) {
      return [{
        name: "cold_start.hello_world",
        unit: "ms",
        samples: baseline,
        note: "app not runnable yet (start.ts missing): baseline only",
      }];
    }
    return await withEmulator({}, async (emu) => {
      const env = { ...baseEnv, ...await appEnv(emu) };
      const app = ["run", "-A", `${ROOT}start.ts`];
      await startOnce(app, env, "/");
      const page: number[] = [];
      const session: number[] = [];
      for (let i = 0; i < runs; i++) {
        page.push(await startOnce(app, env, "/"));
        session.push(await startOnce(app, env, "/api/session", sessionRequest));
      }
      ctx.log(`/: ${page.map((v) => v.toFixed(0)).join(", ")} ms`);
      ctx.log(
        `/api/session: ${session.map((v) => v.toFixed(0)).join(", ")} ms`,
      );
      const trips = await countRoundTrips(env, runs);
      const rows: Row[] = [
        {
          name: "cold_start.hono_hello_world",
          unit: "ms",
          samples: baseline,
          baseline: bareSamples,
          note: "the baseline: spawn → first 200 of a Hono hello-world (baseline: bare Deno.serve)",
        },
        {
          name: "cold_start.page",
          unit: "ms",
          samples: page,
          baseline,
          goal: { text: "≤ 2× baseline", check: (s) => s.ratio <= 2 },
          note: "spawn → first 200 of / (baseline: Hono hello-world)",
        },
        {
          name: "cold_start.api_session",
          unit: "ms",
          samples: session,
          baseline,
          note: "spawn → first 200 of POST /api/session against the emulator",
        },
        {
          name: "cold_start.store_trips_before_page",
          unit: "count",
          samples: trips.page,
          goal: allEqual(0),
          note:
            "store round trips (statements + batches) before the first byte of / in a new process",
        },
        {
          name: "cold_start.store_trips_first_session",
          unit: "count",
          samples: trips.session,
          note:
            "store round trips of the first POST /api/session (opens the store; schema current)",
        },
      ];
      return rows;
    });
  },
};
