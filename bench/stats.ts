/**
 * Statistics and result rows shared by every benchmark: percentiles by linear interpolation,
 * the row shape `bench/main.ts` prints, and goal checks that read a row's median, p90 and ratio.
 *
 * @module
 */

/** Percentile `p` (0..100) of `values` by linear interpolation between closest ranks. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/** Median of `values` (NaN when empty). */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Summary statistics of one series of samples. */
export interface Summary {
  n: number;
  median: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
}

/** Summarises a series of samples. */
export function summarize(values: readonly number[]): Summary {
  return {
    n: values.length,
    median: median(values),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    min: values.length ? Math.min(...values) : NaN,
    max: values.length ? Math.max(...values) : NaN,
  };
}

/** What a goal check sees about a row. */
export interface RowStats {
  median: number;
  p90: number;
  /** Median of the baseline samples, or NaN without a baseline. */
  baselineMedian: number;
  /** `median / baselineMedian`, or NaN without a baseline. */
  ratio: number;
}

/** A target for a row: a human-readable text and a predicate over the row's statistics. */
export interface Goal {
  text: string;
  check: (s: RowStats) => boolean;
}

/** One line of the printed table. */
export interface Row {
  /** Benchmark-qualified name, e.g. `overhead.session_p50_c1`. */
  name: string;
  unit: string;
  /** Measured samples (medians and p90 are taken over these; never a single timing when avoidable). */
  samples: number[];
  /** Baseline samples measured in the same run, when the figure has a baseline. */
  baseline?: number[];
  goal?: Goal;
  /** Short remark printed under the table (what was measured, why skipped, …). */
  note?: string;
  /** Set when the benchmark could not run; the row is printed as skipped. */
  skipped?: string;
}

/** Row statistics, ready to print or to check. */
export function rowStats(row: Row): RowStats {
  const m = median(row.samples);
  const b = row.baseline && row.baseline.length ? median(row.baseline) : NaN;
  return {
    median: m,
    p90: percentile(row.samples, 90),
    baselineMedian: b,
    ratio: m / b,
  };
}

/** Goal: median below `limit`. */
export function medianBelow(limit: number, unit = ""): Goal {
  return { text: `p50 < ${limit}${unit}`, check: (s) => s.median < limit };
}

/** Goal: median at most `limit`. */
export function medianAtMost(limit: number, unit = ""): Goal {
  return { text: `p50 ≤ ${limit}${unit}`, check: (s) => s.median <= limit };
}

/** Goal: median at least `limit`. */
export function medianAtLeast(limit: number, unit = ""): Goal {
  return { text: `p50 ≥ ${limit}${unit}`, check: (s) => s.median >= limit };
}

/** Goal: every sample equals `value` (e.g. lost utterances must be 0). */
export function allEqual(value: number): Goal {
  return {
    text: `= ${value}`,
    check: (s) => s.median === value && s.p90 === value,
  };
}

/** Goal: median minus the baseline median below `added`, and the ratio at most `ratio`. */
export function addedAtMost(added: number, ratio: number, unit = "ms"): Goal {
  return {
    text: `+<${added}${unit} & ×≤${ratio}`,
    check: (s) => s.median - s.baselineMedian < added && s.ratio <= ratio,
  };
}

/** Milliseconds elapsed since `start` (a `performance.now()` value). */
export function since(start: number): number {
  return performance.now() - start;
}

/** Formats a number compactly for the table. */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return "—";
  const abs = Math.abs(value);
  if (abs >= 1000) return value.toFixed(0);
  if (abs >= 100) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  if (abs === 0) return "0";
  return value.toPrecision(2);
}
