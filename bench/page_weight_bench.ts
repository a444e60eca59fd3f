/**
 * Issue #9 item 4 — page weight: bytes and gzip bytes of everything the page loads, measured by
 * the frontend's `bench/page_weight.ts` against a running app; goal ≤ 40 KB gzip. The module is
 * loaded dynamically so this runner works (and reports "skip") before that file exists.
 *
 * @module
 */
import type { Benchmark } from "./runner.ts";
import type { Row } from "./stats.ts";
import { spawnApp, spawnEmulator } from "./harness.ts";

/** The page-weight budget, bytes of gzip (40 KB). */
export const PAGE_GZIP_BUDGET = 40 * 1024;

type Measure = (options: { baseUrl: string; url: string }) => Promise<unknown>;

/** Picks the measuring function out of the frontend's module, whatever its export name. */
function pickMeasure(mod: Record<string, unknown>): Measure | null {
  for (const name of ["measurePageWeight", "pageWeight", "default"]) {
    if (typeof mod[name] === "function") return mod[name] as Measure;
  }
  const fns = Object.values(mod).filter((v) => typeof v === "function");
  return fns.length === 1 ? fns[0] as Measure : null;
}

/** Finds `{ bytes, gzipBytes }` totals in the result, at the top level or under `total(s)`. */
function totals(result: unknown): { bytes: number; gzip: number } | null {
  const candidates = [
    result,
    (result as { total?: unknown })?.total,
    (result as { totals?: unknown })?.totals,
  ];
  for (const c of candidates) {
    if (!c || typeof c !== "object") continue;
    const entries = Object.entries(c as Record<string, unknown>).filter((
      [, v],
    ) => typeof v === "number");
    const gzip = entries.find(([k]) => /gzip/i.test(k));
    const raw = entries.find(([k]) =>
      /bytes|raw|size/i.test(k) && !/gzip/i.test(k)
    );
    if (gzip && raw) {
      return { bytes: raw[1] as number, gzip: gzip[1] as number };
    }
  }
  return null;
}

/** Page-weight benchmark (see module doc). */
export const pageWeight: Benchmark = {
  name: "page_weight",
  description:
    "bytes and gzip bytes of everything the page loads (goal ≤ 40 KB gzip)",
  async run(ctx) {
    const specifier = "./page_weight.ts";
    let mod: Record<string, unknown>;
    try {
      mod = await import(specifier);
    } catch (error) {
      throw new Error(
        `bench/page_weight.ts is not available yet (${
          String(error).split("\n")[0]
        })`,
      );
    }
    const measure = pickMeasure(mod);
    if (!measure) {
      throw new Error("bench/page_weight.ts exports no measuring function");
    }
    const emu = await spawnEmulator({});
    const app = await spawnApp(emu);
    try {
      const runs = ctx.quick ? 1 : 3;
      const bytes: number[] = [];
      const gzip: number[] = [];
      for (let i = 0; i < runs; i++) {
        const result = await measure({
          baseUrl: app.baseUrl,
          url: `${app.baseUrl}/`,
        });
        const t = totals(result);
        if (!t) {
          throw new Error(
            `Unrecognised page_weight result: ${
              JSON.stringify(result).slice(0, 200)
            }`,
          );
        }
        bytes.push(t.bytes / 1024);
        gzip.push(t.gzip / 1024);
      }
      const rows: Row[] = [
        { name: "page_weight.total", unit: "KiB", samples: bytes },
        {
          name: "page_weight.total_gzip",
          unit: "KiB",
          samples: gzip,
          goal: {
            text: "≤ 40 KiB",
            check: (s) => s.median <= PAGE_GZIP_BUDGET / 1024,
          },
        },
      ];
      return rows;
    } finally {
      await app.close();
      await emu.close();
    }
  },
};
