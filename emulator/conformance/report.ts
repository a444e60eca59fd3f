/**
 * The suite's output: the console table (case | expected | observed | source), the markdown and
 * JSON reports the emulator is corrected from, and the cost estimate of a live run.
 *
 * @module
 */
import { findModel } from "../../lib/models.ts";
import {
  TRANSLATION_MODEL,
  TRANSLATION_PRICE_PER_MINUTE_USD,
} from "../../lib/translation_languages.ts";
import type { SuiteResult } from "./suite.ts";
import type { Case, CheckResult } from "./types.ts";

/** Price used for a model the catalog prices at null (an upper bound: the dearest listed). */
export const UNKNOWN_PRICE_PER_MINUTE_USD = 0.017;

/** What a live run of `cases` is estimated to cost. */
export interface CostEstimate {
  /** US dollars, rounded up to a cent. */
  usd: number;
  /** Minutes of audio streamed. */
  minutes: number;
  /** Models whose price is not in the catalog (counted at the upper bound). */
  unpricedModels: string[];
}

/**
 * Estimates the cost of streaming the cases' audio to OpenAI (per-minute prices of the catalog,
 * and of the translation model).
 */
export function estimateCost(cases: readonly Case[]): CostEstimate {
  let usd = 0;
  let seconds = 0;
  const unpriced = new Set<string>();
  for (const c of cases) {
    if (c.targets && !c.targets.includes("live")) continue;
    for (const a of c.liveAudio ?? []) {
      const price = a.model === TRANSLATION_MODEL
        ? TRANSLATION_PRICE_PER_MINUTE_USD
        : findModel(a.model)?.pricePerMinuteUsd ?? null;
      if (price === null) unpriced.add(a.model);
      usd += (a.seconds / 60) * (price ?? UNKNOWN_PRICE_PER_MINUTE_USD);
      seconds += a.seconds;
    }
  }
  return {
    usd: Math.ceil(usd * 100) / 100,
    minutes: Math.round(seconds / 6) / 10,
    unpricedModels: [...unpriced].sort(),
  };
}

/** One line saying what a live run costs. */
export function costLine(cost: CostEstimate): string {
  const unpriced = cost.unpricedModels.length
    ? ` (${
      cost.unpricedModels.join(", ")
    } counted at $${UNKNOWN_PRICE_PER_MINUTE_USD}/min: not priced in the catalog)`
    : "";
  return `Estimated cost: about $${
    cost.usd.toFixed(2)
  } for ${cost.minutes} min of audio${unpriced}.`;
}

/** Counts per status. */
export function summary(results: readonly CheckResult[]): Record<CheckResult["status"], number> {
  const out = { pass: 0, fail: 0, observed: 0, skipped: 0 };
  for (const r of results) out[r.status]++;
  return out;
}

function cut(text: string, width: number): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length <= width ? flat : `${flat.slice(0, width - 1)}…`;
}

const MARK: Record<CheckResult["status"], string> = {
  pass: "ok",
  fail: "FAIL",
  observed: "seen",
  skipped: "skip",
};

/** The console table: one row per check, cells cut to fit. */
export function formatTable(results: readonly CheckResult[]): string {
  const cols = [
    { head: "case", width: 56, cell: (r: CheckResult) => `${r.caseId}: ${r.what}` },
    { head: "expected", width: 30, cell: (r: CheckResult) => r.expected },
    { head: "observed", width: 30, cell: (r: CheckResult) => r.observed },
    { head: "", width: 4, cell: (r: CheckResult) => MARK[r.status] },
    { head: "source", width: 40, cell: (r: CheckResult) => r.source },
  ];
  const line = (cells: string[]) =>
    cells.map((c, i) => cut(c, cols[i].width).padEnd(cols[i].width)).join(" | ").trimEnd();
  return [
    line(cols.map((c) => c.head)),
    cols.map((c) => "-".repeat(c.width)).join("-|-"),
    ...results.map((r) => line(cols.map((c) => c.cell(r)))),
  ].join("\n");
}

function md(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function mdTable(rows: readonly CheckResult[]): string[] {
  return [
    "| case | check | expected | observed | status | source |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows.map((r) =>
      `| ${md(r.caseId)} | ${md(r.what)} | \`${md(r.expected)}\` | \`${
        md(r.observed)
      }\` | ${r.status} | ${md(r.source)} |`
    ),
  ];
}

/** The markdown report: failures first (what to correct), then open questions, then every row. */
export function renderMarkdown(run: SuiteResult, cost: CostEstimate | null): string {
  const s = summary(run.results);
  const failed = run.results.filter((r) => r.status === "fail");
  const lines = [
    `# Realtime conformance run against ${run.target === "live" ? "OpenAI" : "the emulator"}`,
    "",
    `Started ${run.startedAt}, took ${
      (run.durationMs / 1000).toFixed(1)
    } s. ${s.pass} passed, ${s.fail} failed, ${s.observed} observed (open questions), ${s.skipped} skipped.`,
  ];
  if (cost) lines.push("", costLine(cost));
  lines.push(
    "",
    "## Failed checks",
    "",
    failed.length
      ? `The target differs from the expectation. Where the target is OpenAI, the expectation (the emulator and the protocol reference) is what needs correcting.`
      : "None.",
    "",
  );
  if (failed.length) lines.push(...mdTable(failed), "");
  lines.push("## Open questions", "");
  if (!run.questions.length) lines.push("None probed.", "");
  for (const q of run.questions) {
    lines.push(`### ${q.id}`, "", q.question, "", `Emulator default: ${q.emulatorDefault}`, "");
    for (const o of q.observations) lines.push(`- ${md(o.what)}: \`${md(o.observed)}\``);
    lines.push("");
  }
  lines.push("## Every check", "", ...mdTable(run.results), "");
  return lines.join("\n");
}

/** The JSON report (same content, for tools). */
export function renderJson(run: SuiteResult, cost: CostEstimate | null): string {
  return JSON.stringify({ ...run, summary: summary(run.results), cost }, null, 2) + "\n";
}
