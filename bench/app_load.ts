/**
 * Load and sideband cost: N live sessions recorded by ONE app
 * process. Each session goes through the app's real routes — `POST /api/session` (mint, Store
 * row, ticket), then `POST /api/calls/:callId/sideband` (ticket check, self-invoked
 * `/internal/sideband`, `runSideband`) — and its sideband is fed real speech through
 * `bench/relay.ts` from an emulator `?intent=transcription` session. What is measured in the app
 * process: CPU time and RSS from `/proc`, event-to-store latency (sideband frame arrival →
 * `store.recordEvent` done, see `bench/fixtures/app_proc.ts`), events recorded per second, and
 * final utterances in the Store versus utterances spoken.
 *
 * @module
 */
import type { Benchmark } from "./runner.ts";
import { allEqual, type Row } from "./stats.ts";
import { type AppProcess, pool, Resources, sleep, spawnApp, spawnEmulator } from "./harness.ts";
import { procSample } from "./proc.ts";
import { startRelay } from "./relay.ts";
import { type AudioSession, openAudioSession, streamRealtime } from "./ws_audio.ts";
import { loadSpeech, type SpeechAudio, waitForCompleted } from "./speech_audio.ts";

/** What one load run measured in the app process. */
export interface AppLoadResult {
  n: number;
  /** App CPU ms per wall ms, one sample per second of streaming. */
  cpuRatios: number[];
  /** App CPU ms per wall ms over a quiet window before any session (the idle server). */
  idleCpuRatio: number;
  idleRssBytes: number;
  /** App RSS samples while streaming, bytes. */
  rssBytes: number[];
  /** Sideband frame arrival → Store write done, ms. */
  latencies: number[];
  /** Events recorded per second, one sample per second of streaming. */
  eventRates: number[];
  /** Sessions whose sideband was attached and configured. */
  held: number;
  lost: number;
  wallMs: number;
}

async function appStats(app: AppProcess) {
  const res = await fetch(`${app.baseUrl}/_bench/stats`);
  return await res.json() as {
    latencies: number[];
    recorded: number;
    received: number;
  };
}

/** Runs N sessions through a fresh emulator + relay + app; everything is closed afterwards. */
export async function runAppLoad(
  n: number,
  speech: SpeechAudio,
  log: (m: string) => void,
  options: {
    spreadMs?: number;
    memoryStore?: boolean;
    /** Sessions set up at once (default 8). Set-up ends before anything is sampled. */
    setupConcurrency?: number;
    /**
     * Open the emulator audio sessions while the idle app is sampled, instead of each one after
     * its mint: they talk to the emulator only, and only the app process's own CPU time is read.
     */
    openDuringIdle?: boolean;
  } = {},
): Promise<AppLoadResult> {
  const owned = new Resources();
  const sessions: AudioSession[] = [];
  try {
    const emu = owned.use(await spawnEmulator({}));
    const relay = owned.use(await startRelay(emu.baseUrl));
    const app = owned.use(
      await spawnApp(
        { baseUrl: relay.baseUrl, apiKey: emu.apiKey },
        options.memoryStore ? { BENCH_DATABASE_URL: ":memory:" } : {},
      ),
    );
    const openAudio = async () => {
      const audio = await openAudioSession({
        baseUrl: emu.baseUrl,
        apiKey: emu.apiKey,
      });
      sessions.push(audio);
      return audio;
    };
    const sampleIdle = async () => {
      await sleep(500);
      const idleA = await procSample(app.pid);
      await sleep(2000);
      return [idleA, await procSample(app.pid)] as const;
    };
    const [[idleA, idleB], preopened] = await Promise.all([
      sampleIdle(),
      options.openDuringIdle ? pool(Array.from({ length: n }), 16, openAudio) : null,
    ]);
    const idleCpuRatio = (idleB.cpuMs - idleA.cpuMs) / (idleB.at - idleA.at);
    await appStats(app); // warm the probe route
    const storeIds: string[] = [];
    let seq = 0;
    const concurrency = options.setupConcurrency ?? 8;
    const opened = await pool(Array.from({ length: n }), concurrency, async (_, i) => {
      const res = await fetch(`${app.baseUrl}/api/session`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      if (!res.ok) {
        throw new Error(`POST /api/session: ${res.status} ${await res.text()}`);
      }
      const minted = await res.json() as { sessionId: string; ticket: string };
      const audio = preopened?.[i] ?? await openAudio();
      const callId = `rtc_bench_${seq++}_${crypto.randomUUID().slice(0, 8)}`;
      const configured = relay.register(callId, audio);
      const attach = await fetch(
        `${app.baseUrl}/api/calls/${callId}/sideband`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ ticket: minted.ticket }),
        },
      );
      if (attach.status !== 202) {
        throw new Error(
          `POST /api/calls/…/sideband: ${attach.status} ${await attach.text()}`,
        );
      }
      await Promise.race([
        configured,
        sleep(10_000).then(() => Promise.reject(new Error("Sideband never attached"))),
      ]);
      storeIds.push(minted.sessionId);
      return audio;
    });
    log(
      `${n} sessions attached; streaming ${(speech.durationMs / 1000).toFixed(1)} s of speech`,
    );
    await sleep(300);
    await appStats(app); // drop latencies of the set-up events
    const cpuRatios: number[] = [];
    const rssBytes: number[] = [];
    const eventRates: number[] = [];
    let last = await procSample(app.pid);
    let lastRecorded = (await appStats(app)).recorded;
    const latencies: number[] = [];
    let streaming = true;
    const sampler = (async () => {
      while (streaming) {
        await sleep(1000);
        const now = await procSample(app.pid);
        const stats = await appStats(app);
        cpuRatios.push((now.cpuMs - last.cpuMs) / (now.at - last.at));
        rssBytes.push(now.rssBytes);
        eventRates.push(
          (stats.recorded - lastRecorded) / ((now.at - last.at) / 1000),
        );
        latencies.push(...stats.latencies);
        lastRecorded = stats.recorded;
        last = now;
      }
    })();
    const t0 = performance.now();
    await streamRealtime(opened, speech.chunks, {
      chunkMs: speech.chunkMs,
      spreadMs: options.spreadMs,
    });
    await waitForCompleted(opened, speech.utterances, 5000);
    const wallMs = performance.now() - t0;
    streaming = false;
    await sampler;
    await sleep(500);
    latencies.push(...(await appStats(app)).latencies);
    const res = await fetch(`${app.baseUrl}/_bench/utterances`, {
      method: "POST",
      body: JSON.stringify({ sessionIds: storeIds }),
    });
    const counts = await res.json() as Record<string, number>;
    const lost = storeIds.reduce(
      (sum, id) => sum + Math.max(0, speech.utterances - (counts[id] ?? 0)),
      0,
    );
    return {
      n,
      cpuRatios,
      idleCpuRatio,
      idleRssBytes: idleB.rssBytes,
      rssBytes,
      latencies,
      eventRates,
      held: storeIds.length,
      lost,
      wallMs,
    };
  } finally {
    for (const s of sessions) s.close();
    await owned.close();
  }
}

/**
 * Set-up with `--quick` (every session's set-up waits ~2 × 260 ms for emulated `session.updated`,
 * so 8 at a time made set-up the longest part of a quick run). Nothing is sampled during set-up.
 */
export const QUICK_SETUP = { setupConcurrency: 25, openDuringIdle: true } as const;

/** Session start times are spread evenly over this many ms in the load benchmark. */
const SPREAD_MS = 4000;

/** Load benchmark: 200 concurrent sessions (50 with `--quick`) recorded by one app process. */
export const appLoad: Benchmark = {
  name: "load",
  description: "one app process recording N live sessions of real speech",
  async run(ctx) {
    const n = ctx.quick ? 50 : 200;
    const speech = await loadSpeech({ utterances: ctx.quick ? 1 : 3 });
    // Sessions start spread over SPREAD_MS (people do not all stop talking in the same 100 ms);
    // BENCH_STORE=memory runs the same on an in-memory store to isolate SQLite file writes.
    const memoryStore = Deno.env.get("BENCH_STORE") === "memory";
    const r = await runAppLoad(n, speech, ctx.log, {
      spreadMs: ctx.quick ? 1000 : SPREAD_MS,
      memoryStore,
      ...(ctx.quick ? QUICK_SETUP : {}),
    });
    const perSessionKiB = r.rssBytes.map((b) => (b - r.idleRssBytes) / 1024 / n);
    const rows: Row[] = [
      {
        name: `load.sessions_held_${n}`,
        unit: "count",
        samples: [r.held],
        goal: allEqual(n),
      },
      {
        name: `load.events_per_s_${n}`,
        unit: "ev/s",
        samples: r.eventRates,
        note: "events recorded into the Store per second while streaming (1 s windows)",
      },
      {
        name: `load.event_to_store_${n}`,
        unit: "ms",
        samples: r.latencies,
        note: `sideband frame arrival → recordEvent done; p99 ${
          percentileText(r.latencies, 99)
        } ms over ${r.latencies.length} events; starts spread over ${
          ctx.quick ? 1000 : SPREAD_MS
        } ms; store: ${memoryStore ? ":memory:" : "SQLite file"}`,
      },
      {
        name: `load.app_cpu_${n}`,
        unit: "cores",
        samples: r.cpuRatios,
        baseline: [r.idleCpuRatio],
        goal: { text: "p90 < 1 (keeps up)", check: (s) => s.p90 < 1 },
        note: "app process CPU time / wall time while streaming (baseline: idle server)",
      },
      {
        name: `load.rss_per_session_${n}`,
        unit: "KiB",
        samples: perSessionKiB,
        note: "(app RSS while streaming − idle RSS) / N",
      },
      {
        name: `load.lost_utterances_${n}`,
        unit: "count",
        samples: [r.lost],
        goal: allEqual(0),
      },
    ];
    return rows;
  },
};

function percentileText(values: number[], p: number): string {
  if (!values.length) return "—";
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[
    Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  ].toFixed(1);
}
