/**
 * The shapes of the conformance suite: a case runs against a target and records checks
 * (case | expected | observed | source); open questions record what a target does where the
 * protocol reference is unsure.
 *
 * @module
 */
import type { CaseContext } from "./context.ts";

/** Which API a run talks to. */
export type TargetKind = "emulator" | "live";

/** How one check ended. */
export type CheckStatus = "pass" | "fail" | "observed" | "skipped";

/** One row of the table. */
export interface CheckResult {
  /** The case id, e.g. `rest.secret.defaults`. */
  caseId: string;
  /** What was checked. */
  what: string;
  /** The expectation, as compact JSON or text. */
  expected: string;
  /** What the target did. */
  observed: string;
  status: CheckStatus;
  /** Where the expectation comes from (protocol reference section, SDK, live report…). */
  source: string;
}

/** An open question of the protocol reference and what a run saw. */
export interface QuestionResult {
  /** Stable id, e.g. `logprobs_current_models`. */
  id: string;
  /** The question. */
  question: string;
  /** What the emulator assumes by default, and the option that switches it. */
  emulatorDefault: string;
  /** Observations, one per probe. */
  observations: { what: string; observed: string }[];
}

/** An open question a case probes. */
export interface Question {
  id: string;
  question: string;
  emulatorDefault: string;
}

/** Audio a case streams to a live target (for the cost estimate). */
export interface LiveAudio {
  model: string;
  seconds: number;
}

/** One conformance case. */
export interface Case {
  /** Dotted id: `<area>.<name>`; `--only` filters by prefix. */
  id: string;
  /** One line saying what the case covers. */
  title: string;
  /** Default source of the case's expectations. */
  source: string;
  /** Targets it runs against (default both). */
  targets?: readonly TargetKind[];
  /** Why it does not run against the other target (shown as a skipped row). */
  skipReason?: string;
  /** Audio streamed against a live target (cost estimate). */
  liveAudio?: readonly LiveAudio[];
  /** Runs the case; checks are recorded on `ctx`. */
  run(ctx: CaseContext): Promise<void>;
}
