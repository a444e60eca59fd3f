/**
 * Runs the conformance cases against a target, one after another (live calls are billed and
 * rate limited), and collects the rows and open-question observations.
 *
 * @module
 */
import { CaseContext } from "./context.ts";
import type { Target } from "./target.ts";
import type { Case, CheckResult, QuestionResult, TargetKind } from "./types.ts";
import { CASES } from "./cases/mod.ts";

/** The outcome of a run. */
export interface SuiteResult {
  target: TargetKind;
  startedAt: string;
  durationMs: number;
  results: CheckResult[];
  questions: QuestionResult[];
}

/** Options for {@linkcode runSuite}. */
export interface RunOptions {
  /** Only cases whose id starts with one of these (empty = all). */
  only?: readonly string[];
  /** The cases (default: every case). */
  cases?: readonly Case[];
  /** Called after each case (progress output). */
  onCase?: (c: Case, rows: CheckResult[]) => void;
}

/** The cases a run with `only` selects. */
export function selectCases(cases: readonly Case[], only: readonly string[] = []): Case[] {
  return cases.filter((c) => !only.length || only.some((p) => c.id.startsWith(p)));
}

/** Runs the selected cases against `target`. */
export async function runSuite(target: Target, options: RunOptions = {}): Promise<SuiteResult> {
  const started = Date.now();
  const results: CheckResult[] = [];
  const questions = new Map<string, QuestionResult>();
  for (const c of selectCases(options.cases ?? CASES, options.only)) {
    const rows: CheckResult[] = [];
    if (c.targets && !c.targets.includes(target.kind)) {
      rows.push({
        caseId: c.id,
        what: c.title,
        expected: "-",
        observed: "-",
        status: "skipped",
        source: c.skipReason ?? `runs against ${c.targets.join(", ")} only`,
      });
    } else {
      const ctx = new CaseContext(target, c.id, c.source);
      try {
        await c.run(ctx);
      } catch (err) {
        ctx.results.push({
          caseId: c.id,
          what: "the case ran to the end",
          expected: "no error",
          observed: err instanceof Error ? err.message : String(err),
          status: "fail",
          source: c.source,
        });
      } finally {
        await ctx.cleanup();
      }
      if (!ctx.results.length) {
        ctx.results.push({
          caseId: c.id,
          what: "the case checked something",
          expected: "at least one check",
          observed: "none",
          status: "fail",
          source: c.source,
        });
      }
      rows.push(...ctx.results);
      for (const [id, q] of ctx.questions) {
        const have = questions.get(id);
        if (have) have.observations.push(...q.observations);
        else questions.set(id, q);
      }
    }
    results.push(...rows);
    options.onCase?.(c, rows);
  }
  return {
    target: target.kind,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    results,
    questions: [...questions.values()],
  };
}
