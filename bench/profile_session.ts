/**
 * Where `POST /api/session` spends its time: the app in this process (no HTTP hop) against an
 * emulator with 40 ms REST latency, with every Store call and the upstream fetch timed separately,
 * on `:memory:` and on a SQLite file. "app" is the request's time minus the fetch's, so Store calls
 * made while the fetch is in flight (the mint limits and the pending row) count only where they
 * outlast it. Not part of `deno task bench` (it explains a row of it):
 *
 * ```sh
 * npx -y deno@2.7.5 run -A bench/profile_session.ts
 * ```
 *
 * @module
 */
import { appEnv, spawnEmulator } from "./harness.ts";
import { median } from "./stats.ts";
import { createApp } from "../app.ts";
import { assembleDeps } from "../lib/setup.ts";
import { loadConfig } from "../lib/config.ts";
import { openStore } from "../lib/store/mod.ts";
import type { Store } from "../lib/store/types.ts";
import { createFileReader } from "../lib/files.ts";

const REQUESTS = 80;
const WARM_UP = 20;

/** Wraps every Store method to collect its durations by name. */
function timedStore(inner: Store, into: Record<string, number[]>): Store {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        const t0 = performance.now();
        try {
          return await value.apply(target, args);
        } finally {
          (into[String(prop)] ??= []).push(performance.now() - t0);
        }
      };
    },
  });
}

if (import.meta.main) {
  const emu = await spawnEmulator({}, 40);
  const dir = await Deno.makeTempDir({ prefix: "bench-profile-" });
  try {
    for (const url of [":memory:", `file:${dir}/app.db`]) {
      const config = await loadConfig({ ...appEnv(emu), PORT: "0" });
      const inner = await openStore(config, { url });
      const storeMs: Record<string, number[]> = {};
      const fetchMs: number[] = [];
      const app = createApp(assembleDeps({
        config,
        store: timedStore(inner, storeMs),
        readFile: createFileReader({ platform: "local" }),
        fetch: async (input, init) => {
          const t0 = performance.now();
          const res = await fetch(input, init);
          fetchMs.push(performance.now() - t0);
          return res;
        },
      }));
      const total: number[] = [];
      for (let i = 0; i < REQUESTS; i++) {
        const t0 = performance.now();
        const res = await app.fetch(
          new Request("http://127.0.0.1/api/session", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: "{}",
          }),
          { remoteAddr: { hostname: "127.0.0.1" } },
        );
        await res.text();
        if (i >= WARM_UP) total.push(performance.now() - t0);
      }
      const upstream = median(fetchMs.slice(WARM_UP));
      console.log(
        `${url === ":memory:" ? ":memory:" : "SQLite file"}: /api/session ${
          median(total).toFixed(2)
        } ms, upstream fetch ${upstream.toFixed(2)} ms, app ${
          (median(total) - upstream).toFixed(2)
        } ms`,
      );
      for (const [name, ms] of Object.entries(storeMs)) {
        console.log(
          `  ${name}: ${ms.length / REQUESTS} per request, median ${
            median(ms.slice(WARM_UP)).toFixed(2)
          } ms`,
        );
      }
      await inner.close();
    }
  } finally {
    await emu.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
