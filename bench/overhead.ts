/**
 * Server overhead: `POST /api/session` end to end (validation, mint limits,
 * upstream `client_secrets`, Store row, ticket) versus calling the same emulator's
 * `client_secrets` directly with the same body, with a realistic emulated upstream latency (40 ms
 * added by the emulator's latency fault). App and emulator each run in their own process; app and
 * direct requests alternate so both see the same machine noise.
 *
 * @module
 */
import type { Benchmark } from "./runner.ts";
import { addedAtMost, type Row } from "./stats.ts";
import { pool, Resources, spawnApp, spawnEmulator, spawnProxy } from "./harness.ts";
import { buildTranscriptionSession, resolveSessionOptions } from "../lib/session_config.ts";

/** Emulated upstream latency, ms. */
export const UPSTREAM_LATENCY_MS = 40;

type Call = () => Promise<void>;

async function timed(call: Call): Promise<number> {
  const t0 = performance.now();
  await call();
  return performance.now() - t0;
}

/** Runs `total` calls with `concurrency` in flight; returns requests per second. */
async function throughput(
  call: Call,
  total: number,
  concurrency: number,
): Promise<number> {
  const t0 = performance.now();
  await pool(Array.from({ length: total }), concurrency, call);
  return total / ((performance.now() - t0) / 1000);
}

/** Server-overhead benchmark (see module doc). */
export const overhead: Benchmark = {
  name: "overhead",
  description:
    `/api/session vs the emulator's client_secrets directly (+${UPSTREAM_LATENCY_MS} ms upstream)`,
  async run(ctx) {
    const owned = new Resources();
    try {
      const emu = owned.use(await spawnEmulator({}, UPSTREAM_LATENCY_MS));
      const app = owned.use(await spawnApp(emu));
      // The same app on an in-memory store: isolates what the SQLite file writes cost.
      const memApp = owned.use(await spawnApp(emu, { BENCH_DATABASE_URL: ":memory:" }));
      // The thinnest server in front of the emulator: the floor any extra hop costs here.
      const proxy = owned.use(await spawnProxy(emu));
      const settings = resolveSessionOptions({}, {
        defaultModel: "gpt-transcribe",
      });
      const directBody = JSON.stringify({
        expires_after: { anchor: "created_at", seconds: 60 },
        session: buildTranscriptionSession(settings),
      });
      const check = async (res: Response, what: string) => {
        const text = await res.text();
        if (res.status !== 200) {
          throw new Error(`${what}: ${res.status} ${text.slice(0, 300)}`);
        }
      };
      const mint = (base: string): Call => async () =>
        await check(
          await fetch(`${base}/api/session`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: "{}",
          }),
          "POST /api/session",
        );
      const viaApp = mint(app.baseUrl);
      const viaMemApp = mint(memApp.baseUrl);
      const secrets = (base: string): Call => async () =>
        await check(
          await fetch(`${base}/v1/realtime/client_secrets`, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              authorization: `Bearer ${emu.apiKey}`,
            },
            body: directBody,
          }),
          "client_secrets",
        );
      const direct = secrets(emu.baseUrl);
      const viaProxy = secrets(proxy.baseUrl);
      for (let i = 0; i < 10; i++) {
        await viaApp();
        await viaMemApp();
        await viaProxy();
        await direct();
      }
      const rounds = ctx.quick ? 2 : 4;
      const perRound = ctx.quick ? 15 : 25;
      const lat: number[] = [];
      const memLat: number[] = [];
      const proxyLat: number[] = [];
      const base: number[] = [];
      const rps1: number[] = [];
      const rps1Base: number[] = [];
      for (let r = 0; r < rounds; r++) {
        let appMs = 0;
        let directMs = 0;
        for (let i = 0; i < perRound; i++) {
          const a = await timed(viaApp);
          memLat.push(await timed(viaMemApp));
          proxyLat.push(await timed(viaProxy));
          const b = await timed(direct);
          lat.push(a);
          base.push(b);
          appMs += a;
          directMs += b;
        }
        rps1.push(perRound / (appMs / 1000));
        rps1Base.push(perRound / (directMs / 1000));
      }
      ctx.log(`c=1 done (${lat.length} requests each)`);
      // Every mint leaves a pending session that holds a MAX_CONCURRENT_SESSIONS_PER_IP slot (at most
      // 1000) for a couple of minutes: stay below that in one run.
      const total = ctx.quick ? 150 : 250;
      const rps50: number[] = [];
      const rps50Base: number[] = [];
      for (let r = 0; r < (ctx.quick ? 2 : 3); r++) {
        rps50.push(await throughput(viaApp, total, 50));
        rps50Base.push(await throughput(direct, total, 50));
      }
      const rows: Row[] = [
        {
          name: "overhead.session_latency_c1",
          unit: "ms",
          samples: lat,
          baseline: base,
          goal: addedAtMost(2, 1.05),
          note:
            `POST /api/session vs direct client_secrets, both with +${UPSTREAM_LATENCY_MS} ms emulated upstream latency`,
        },
        {
          name: "overhead.session_latency_c1_memory_store",
          unit: "ms",
          samples: memLat,
          baseline: base,
          goal: addedAtMost(2, 1.05),
          note: "the same with DATABASE_URL=:memory: (isolates the cost of SQLite file writes)",
        },
        {
          name: "overhead.proxy_floor_c1",
          unit: "ms",
          samples: proxyLat,
          baseline: base,
          note:
            "reference: a bare Deno pass-through proxy to client_secrets (one extra loopback hop, no app logic)",
        },
        {
          name: "overhead.throughput_c1",
          unit: "req/s",
          samples: rps1,
          baseline: rps1Base,
          note: `sequential requests, ${perRound} per round (baseline: direct client_secrets)`,
        },
        {
          name: "overhead.throughput_c50",
          unit: "req/s",
          samples: rps50,
          baseline: rps50Base,
          note: `${total} requests with 50 in flight per round (baseline: direct client_secrets)`,
        },
      ];
      return rows;
    } finally {
      await owned.close();
    }
  },
};
