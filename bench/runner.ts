/**
 * The benchmark runner: the {@linkcode Benchmark} shape every file in `bench/` exports, running a
 * selection of them with failures isolated, and printing the one result table.
 *
 * @module
 */
import { fmt, type Row, rowStats } from "./stats.ts";

/** What a benchmark receives. */
export interface BenchContext {
  /** `--quick`: fewer iterations and smaller loads, for fast iteration (whole run ≈ 75 s). */
  quick: boolean;
  /** Progress line on stderr (the table goes to stdout). */
  log: (message: string) => void;
}

/** One benchmark: a name for `--only` and a function that measures and returns table rows. */
export interface Benchmark {
  name: string;
  /** One line saying what is measured and against which baseline. */
  description: string;
  run: (ctx: BenchContext) => Promise<Row[]>;
}

/** Options for {@linkcode runBenchmarks}. */
export interface RunOptions {
  quick?: boolean;
  /** Names (or name prefixes) to run; all when empty. */
  only?: string[];
  log?: (message: string) => void;
}

/** Runs the selected benchmarks one after another; a failing benchmark becomes a skipped row. */
export async function runBenchmarks(
  benchmarks: readonly Benchmark[],
  options: RunOptions = {},
): Promise<Row[]> {
  const log = options.log ?? ((m: string) => console.error(m));
  const only = options.only ?? [];
  const selected = benchmarks.filter((b) =>
    only.length === 0 || only.some((o) => b.name === o || b.name.startsWith(o))
  );
  if (selected.length === 0) {
    throw new Error(
      `No benchmark matches ${only.join(", ")}; known: ${benchmarks.map((b) => b.name).join(", ")}`,
    );
  }
  const rows: Row[] = [];
  for (const bench of selected) {
    const started = performance.now();
    log(`▶ ${bench.name}: ${bench.description}`);
    try {
      const result = await bench.run({
        quick: options.quick ?? false,
        log: (m) => log(`  ${bench.name}: ${m}`),
      });
      rows.push(...result);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(
        `  ${bench.name} failed: ${error instanceof Error ? error.stack : message}`,
      );
      rows.push({
        name: bench.name,
        unit: "",
        samples: [],
        skipped: message.split("\n")[0],
      });
    }
    log(
      `  ${bench.name} took ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  return rows;
}

/** The verdict of a row: `ok`, `MISS`, `skip` or `—` (no goal). */
export function verdict(row: Row): string {
  if (row.skipped) return "skip";
  if (!row.goal) return "—";
  return row.goal.check(rowStats(row)) ? "ok" : "MISS";
}

/** Renders rows as one aligned text table, with notes and skip reasons listed under it. */
export function formatTable(rows: readonly Row[]): string {
  const header = [
    "name",
    "unit",
    "n",
    "median",
    "p90",
    "baseline",
    "ratio",
    "goal",
    "verdict",
  ];
  const lines: string[][] = [header];
  const notes: string[] = [];
  for (const row of rows) {
    const s = rowStats(row);
    lines.push([
      row.name,
      row.unit,
      String(row.samples.length),
      row.skipped ? "—" : fmt(s.median),
      row.skipped ? "—" : fmt(s.p90),
      fmt(s.baselineMedian),
      Number.isFinite(s.ratio) ? s.ratio.toFixed(3) : "—",
      row.goal?.text ?? "",
      verdict(row),
    ]);
    if (row.skipped) notes.push(`${row.name}: skipped: ${row.skipped}`);
    else if (row.note) notes.push(`${row.name}: ${row.note}`);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  const numeric = new Set([2, 3, 4, 5, 6]);
  const render = (l: string[]) =>
    l.map((cell, i) => numeric.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))
      .join("  ").trimEnd();
  const out = [render(lines[0]), widths.map((w) => "-".repeat(w)).join("  ")];
  for (const l of lines.slice(1)) out.push(render(l));
  if (notes.length) out.push("", ...notes.map((n) => `• ${n}`));
  return out.join("\n");
}

/** Renders rows as a Markdown table (for docs/performance.md). */
export function formatMarkdown(rows: readonly Row[]): string {
  const out = [
    "| name | unit | n | median | p90 | baseline | ratio | goal | verdict |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
  ];
  for (const row of rows) {
    const s = rowStats(row);
    out.push(
      `| ${row.name} | ${row.unit} | ${row.samples.length} | ${
        row.skipped ? "—" : fmt(s.median)
      } | ${row.skipped ? "—" : fmt(s.p90)} | ${fmt(s.baselineMedian)} | ${
        Number.isFinite(s.ratio) ? s.ratio.toFixed(3) : "—"
      } | ${(row.goal?.text ?? "").replaceAll("|", "\\|")} | ${verdict(row)} |`,
    );
  }
  return out.join("\n");
}
