/**
 * Page weight: bytes and gzip bytes of everything the page loads, measured by
 * the frontend's {@linkcode measurePageWeight} (`bench/page_weight.ts`) against the app running in
 * its own process; goal ≤ 40 KB gzip.
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
  description: "bytes and gzip bytes of everything the page loads (goal ≤ 40 KB gzip)",
  async run(ctx) {
    const owned = new Resources();
    try {
      const emu = owned.use(await spawnEmulator({}));
      const app = owned.use(await spawnApp(emu));
      // Deterministic, but measured more than once so the row has a median like every other.
      const runs = ctx.quick ? 1 : 3;
      const bytes: number[] = [];
      const gzip: number[] = [];
      let files = 0;
      for (let i = 0; i < runs; i++) {
        const w = await measurePageWeight({ baseUrl: app.baseUrl });
        bytes.push(w.total.bytes / 1024);
        gzip.push(w.total.gzipBytes / 1024);
        files = w.files.length;
      }
      const rows: Row[] = [
        {
          name: "page_weight.total",
          unit: "KiB",
          samples: bytes,
          note: `${files} files: the HTML, its scripts and styles, and their module graph`,
        },
        {
          name: "page_weight.total_gzip",
          unit: "KiB",
          samples: gzip,
          goal: {
            text: "≤ 40 KiB",
            check: (s) => s.median <= PAGE_GZIP_BUDGET / 1024,
          },
          note: "sum of each file's gzip size (CompressionStream)",
        },
      ];
      return rows;
    } finally {
      await owned.close();
    }
  },
};
