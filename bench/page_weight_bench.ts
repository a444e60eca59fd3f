/**
 * Page weight: bytes and gzip bytes of everything the page loads, measured by
 * the frontend's {@linkcode measurePageWeight} (`bench/page_weight.ts`) against the app running in
 * its own process: the first load (goal ≤ 40 KiB gzip), the files loaded on demand, and all files.
 *
 * @module
 */
import type { Benchmark } from "./runner.ts";
import type { Row } from "./stats.ts";
import { Resources, spawnApp, spawnEmulator } from "./harness.ts";
import { measurePageWeight } from "./page_weight.ts";

/** The page-weight budget in gzip bytes (40 KiB). */
export const PAGE_GZIP_BUDGET = 40 * 1024;

/** Page-weight benchmark (see module doc). */
export const pageWeight: Benchmark = {
  name: "page_weight",
  description:
    "gzip bytes of the page's first load (goal ≤ 40 KiB), of what loads on demand, and of all files",
  async run(ctx) {
    const owned = new Resources();
    try {
      const emu = owned.use(await spawnEmulator({}));
      const app = owned.use(await spawnApp(emu));
      // Deterministic, but measured more than once so the row has a median like every other.
      const runs = ctx.quick ? 1 : 3;
      const first: number[] = [];
      const later: number[] = [];
      const all: number[] = [];
      let w = await measurePageWeight({ baseUrl: app.baseUrl });
      for (let i = 0; i < runs; i++) {
        if (i > 0) w = await measurePageWeight({ baseUrl: app.baseUrl });
        first.push(w.firstLoad.gzipBytes / 1024);
        later.push(w.onDemand.gzipBytes / 1024);
        all.push(w.total.gzipBytes / 1024);
      }
      const triggers = [...new Set(w.files.flatMap((f) => f.onDemand ? [f.onDemand] : []))];
      const rows: Row[] = [
        {
          name: "page_weight.first_load_gzip",
          unit: "KiB",
          samples: first,
          goal: {
            text: "≤ 40 KiB",
            check: (s) => s.median <= PAGE_GZIP_BUDGET / 1024,
          },
          note:
            `${w.firstLoad.files} files (${
              (w.firstLoad.bytes / 1024).toFixed(1)
            } KiB raw): the HTML, its styles and scripts and their static imports — what every ` +
            "visitor downloads before pressing anything",
        },
        {
          name: "page_weight.on_demand_gzip",
          unit: "KiB",
          samples: later,
          note: `${w.onDemand.files} files loaded later, by: ${triggers.join("; ")}`,
        },
        {
          name: "page_weight.all_gzip",
          unit: "KiB",
          samples: all,
          note: `all ${w.total.files} files (${
            (w.total.bytes / 1024).toFixed(1)
          } KiB raw), sum of each file's gzip size (CompressionStream)`,
        },
      ];
      return rows;
    } finally {
      await owned.close();
    }
  },
};
