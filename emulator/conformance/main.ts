/**
 * `deno task conformance [--live] [--only <prefix>] [--out <path>]`: runs the protocol cases
 * against the emulator (default) or OpenAI and prints case | expected | observed | source.
 * Exit code 1 when a check failed, 2 for a bad command line. See docs/emulator.md.
 *
 * @module
 */
import { CASES } from "./cases/mod.ts";
import {
  costLine,
  estimateCost,
  formatTable,
  renderJson,
  renderMarkdown,
  summary,
} from "./report.ts";
import { runSuite, selectCases } from "./suite.ts";
import { openTarget, SelectionError, selectTarget, USAGE } from "./target.ts";

async function main(): Promise<number> {
  let sel;
  try {
    sel = selectTarget(Deno.args, (name) => Deno.env.get(name));
  } catch (err) {
    if (!(err instanceof SelectionError)) throw err;
    console.error(`${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (sel.help) {
    console.log(USAGE);
    return 0;
  }
  const cases = selectCases(CASES, sel.only);
  const cost = sel.kind === "live" ? estimateCost(cases) : null;
  if (cost) {
    // Said before anything is sent; the run needs nothing else from the user.
    console.log(`Running ${cases.length} cases against OpenAI. ${costLine(cost)}`);
  }
  const target = await openTarget(sel);
  let run;
  try {
    run = await runSuite(target, {
      cases,
      onCase: (c, rows) => {
        const bad = rows.filter((r) => r.status === "fail").length;
        console.error(`${bad ? "FAIL" : "ok  "} ${c.id} (${rows.length} checks)`);
      },
    });
  } finally {
    await target.close();
  }
  console.log(formatTable(run.results));
  const s = summary(run.results);
  console.log(
    `\n${s.pass} passed, ${s.fail} failed, ${s.observed} observed, ${s.skipped} skipped in ${
      (run.durationMs / 1000).toFixed(1)
    } s`,
  );
  if (sel.out) {
    await Deno.writeTextFile(`${sel.out}.md`, renderMarkdown(run, cost));
    await Deno.writeTextFile(`${sel.out}.json`, renderJson(run, cost));
    console.log(`Report: ${sel.out}.md, ${sel.out}.json`);
  }
  return s.fail ? 1 : 0;
}

Deno.exit(await main());
