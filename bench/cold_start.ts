/**
 * Issue #9 item 5 — cold start: process start → first 200 of `/` and of `/api/session`, each
 * from a freshly spawned `deno run` process (module cache warm, as on a restarted server). The
 * baseline is a hello-world `Deno.serve` process spawned the same way in the same run.
 *
 * @module
 */
import { freePort, spawnDeno, waitForStatus } from "./proc.ts";
import type { Benchmark } from "./runner.ts";
import type { Row } from "./stats.ts";
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

/** Cold-start benchmark (see module doc). */
export const coldStart: Benchmark = {
  name: "cold_start",
  description: "process spawn → first 200 of / and /api/session (baseline: hello-world Deno.serve)",
  async run(ctx) {
    const runs = ctx.quick ? 3 : 7;
    const baseEnv = { DENO_TLS_CA_STORE: "mozilla,system", NO_COLOR: "1" };
    const hello = ["run", "-A", `${ROOT}bench/fixtures/hello_serve.ts`];
    // Warm-up: fills Deno's module and V8 code caches so every measured run is alike.
    await startOnce(hello, baseEnv, "/");
    const baseline: number[] = [];
    for (let i = 0; i < runs; i++) {
      baseline.push(await startOnce(hello, baseEnv, "/"));
    }
    ctx.log(`hello-world: ${baseline.map((v) => v.toFixed(0)).join(", ")} ms`);
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
      const rows: Row[] = [
        {
          name: "cold_start.page",
          unit: "ms",
          samples: page,
          baseline,
          note: "spawn → first 200 of / (baseline: hello-world Deno.serve)",
        },
        {
          name: "cold_start.api_session",
          unit: "ms",
          samples: session,
          baseline,
          note: "spawn → first 200 of POST /api/session against the emulator",
        },
      ];
      return rows;
    });
  },
};
