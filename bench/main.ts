/**
 * `deno task bench`: runs every benchmark in `bench/` and prints ONE table (name, unit, median,
 * p90, baseline median, ratio vs the baseline measured in the same run, goal, verdict).
 *
 * ```sh
 * npx -y deno@2.7.5 task bench                      # everything (≤ ~5 minutes)
 * npx -y deno@2.7.5 task bench --quick              # smaller loads (≈ 75 s on 2 cores)
 * npx -y deno@2.7.5 task bench --only overhead      # one benchmark (name or prefix; repeatable)
 * npx -y deno@2.7.5 task bench --markdown           # also print the table as Markdown
 * npx -y deno@2.7.5 task bench --json out.json      # also write raw samples as JSON
 * ```
 *
 * @module
 */
import { type Benchmark, formatMarkdown, formatTable, runBenchmarks, verdict } from "./runner.ts";
import { rowStats } from "./stats.ts";
import { coldStart } from "./cold_start.ts";
import { emulatorCapacity } from "./emulator_capacity.ts";
import { appLoad } from "./app_load.ts";
import { overhead } from "./overhead.ts";
import { sidebandCost } from "./sideband_cost.ts";
import { clickToCaptions, speechToText } from "./browser_latency.ts";
import { webrtcCapacity } from "./webrtc_capacity.ts";
import { pageWeight } from "./page_weight_bench.ts";
import { datachannelLatency } from "./datachannel_latency.ts";
import { turns } from "./turn_detection.ts";

/** Every benchmark, in the order they run. */
export const BENCHMARKS: readonly Benchmark[] = [
  overhead,
  clickToCaptions,
  speechToText,
  datachannelLatency,
  pageWeight,
  coldStart,
  sidebandCost,
  appLoad,
  emulatorCapacity,
  webrtcCapacity,
  turns,
];

/** Parsed command line. */
interface Args {
  quick: boolean;
  only: string[];
  markdown: boolean;
  json: string | null;
  help: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    quick: false,
    only: [],
    markdown: false,
    json: null,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[++i];
      if (v === undefined || v === "") {
        throw new Error(`Missing value after ${a}`);
      }
      return v;
    };
    if (a === "--quick") args.quick = true;
    else if (a === "--markdown") args.markdown = true;
    else if (a === "--help" || a === "-h") args.help = true;
    else if (a === "--only" || a.startsWith("--only=")) {
      args.only.push(...value().split(","));
    } else if (a === "--json" || a.startsWith("--json=")) args.json = value();
    else throw new Error(`Unknown argument: ${a}`);
  }
  return args;
}

async function machine(): Promise<string> {
  let cpu = "?";
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    cpu = /model name\s*:\s*(.+)/.exec(info)?.[1] ?? cpu;
  } catch {
    // Not Linux.
  }
  const memGiB = (Deno.systemMemoryInfo().total / 2 ** 30).toFixed(1);
  return `${navigator.hardwareConcurrency} cpus (${cpu}), ${memGiB} GiB RAM, Deno ${Deno.version.deno}, ${Deno.build.os}`;
}

if (import.meta.main) {
  let args: Args;
  try {
    args = parseArgs(Deno.args);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    Deno.exit(2);
  }
  if (args.help) {
    console.log(
      "Usage: deno run -A bench/main.ts [--quick] [--only <name>]... [--markdown] [--json <file>]",
    );
    console.log("Benchmarks:");
    for (const b of BENCHMARKS) {
      console.log(`  ${b.name.padEnd(20)} ${b.description}`);
    }
    Deno.exit(0);
  }
  const started = performance.now();
  let rows;
  try {
    rows = await runBenchmarks(BENCHMARKS, { quick: args.quick, only: args.only });
  } catch (error) {
    // Only a bad `--only` gets here: each benchmark's own failure becomes a skipped row.
    console.error(error instanceof Error ? error.message : error);
    Deno.exit(2);
  }
  const header = `${new Date().toISOString()} · ${await machine()}${
    args.quick ? " · --quick" : ""
  }`;
  console.log(`\n${header}\n`);
  console.log(formatTable(rows));
  if (args.markdown) console.log(`\n${formatMarkdown(rows)}`);
  if (args.json) {
    const data = {
      date: new Date().toISOString(),
      machine: await machine(),
      quick: args.quick,
      rows: rows.map((r) => ({
        name: r.name,
        unit: r.unit,
        ...rowStats(r),
        goal: r.goal?.text ?? null,
        verdict: verdict(r),
        note: r.note ?? null,
        skipped: r.skipped ?? null,
        samples: r.samples,
        baseline: r.baseline ?? null,
      })),
    };
    await Deno.writeTextFile(args.json, JSON.stringify(data, null, 2));
  }
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`);
  // Benchmarks close what they open; exit anyway so a stray timer in a dependency cannot hang CI.
  Deno.exit(0);
}
