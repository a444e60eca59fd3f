/**
 * Sideband cost: CPU time and memory per live session in the app process at
 * 1, 10 and 100 sessions, each session a real sideband fed real speech (same machinery as the
 * load benchmark, `bench/app_load.ts`). Baseline: the idle server measured in the same run.
 *
 * - `cpu_per_session_N`: (app CPU ms per wall second − idle) / N, one sample per second;
 * - `rss_per_session_N`: (app RSS − idle RSS) / N, one sample per second.
 *
 * @module
 */
import type { Benchmark } from "./runner.ts";
import type { Row } from "./stats.ts";
import { QUICK_SETUP, runAppLoad } from "./app_load.ts";
import { loadSpeech } from "./speech_audio.ts";

/** Sideband-cost benchmark (see module doc). */
export const sidebandCost: Benchmark = {
  name: "sideband",
  description: "app CPU and RSS per live sideband session at 1, 10, 100 (baseline: idle server)",
  async run(ctx) {
    const counts = ctx.quick ? [10] : [1, 10, 100];
    const speech = await loadSpeech({ utterances: ctx.quick ? 1 : 2 });
    const rows: Row[] = [];
    for (const n of counts) {
      const r = await runAppLoad(n, speech, ctx.log, ctx.quick ? QUICK_SETUP : {});
      const idleMsPerS = r.idleCpuRatio * 1000;
      rows.push({
        name: `sideband.cpu_per_session_${n}`,
        unit: "ms/s",
        samples: r.cpuRatios.map((c) => (c * 1000 - idleMsPerS) / n),
        baseline: [idleMsPerS],
        note: n === counts[0]
          ? "app CPU ms per second per session while streaming speech (baseline: idle app, ms/s)"
          : undefined,
      });
      rows.push({
        name: `sideband.rss_per_session_${n}`,
        unit: "KiB",
        samples: r.rssBytes.map((b) => (b - r.idleRssBytes) / 1024 / n),
        baseline: [r.idleRssBytes / 1024],
        note: n === counts[0]
          ? "(app RSS − idle RSS) / N (baseline: idle app RSS, KiB)"
          : undefined,
      });
      if (r.lost > 0) {
        ctx.log(`warning: ${r.lost} utterances lost at ${n} sessions`);
      }
    }
    return rows;
  },
};
