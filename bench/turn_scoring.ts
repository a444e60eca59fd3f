/**
 * Scores detected turns against known speech regions: which regions were found, how many extra
 * turns split a region, turns in no region at all, and the boundary errors of the found regions.
 *
 * A detected turn belongs to the region it overlaps most; a turn that overlaps none is a false
 * alarm. A region is found when at least one turn belongs to it; every further turn that belongs
 * to it is a false split. Its boundaries are the earliest start and the latest end of its turns,
 * so a turn that runs on into the next region shows up as a large end error (and that next region,
 * if no other turn belongs to it, as not found).
 *
 * @module
 */

/** A span of audio, ms from the start of the file. */
export interface Span {
  startMs: number;
  endMs: number;
}

/** What {@linkcode scoreTurns} found. */
export interface TurnScore {
  /** Regions (true utterances). */
  regions: number;
  /** Regions with at least one turn. */
  found: number;
  /** Turns beyond the first within a region. */
  falseSplits: number;
  /** Turns that overlap no region. */
  falseAlarms: number;
  /** Detected minus true start of each found region, ms (negative: early). */
  startErrors: number[];
  /** Detected minus true end of each found region, ms (negative: early). */
  endErrors: number[];
}

function overlap(a: Span, b: Span): number {
  return Math.max(0, Math.min(a.endMs, b.endMs) - Math.max(a.startMs, b.startMs));
}

/**
 * Matches turns to regions (see the module doc).
 *
 * @param regions The true utterances, in order.
 * @param turns The detected turns, in order.
 * @returns Counts and signed boundary errors.
 */
export function scoreTurns(regions: readonly Span[], turns: readonly Span[]): TurnScore {
  const owned: Span[][] = regions.map(() => []);
  let falseAlarms = 0;
  for (const turn of turns) {
    let best = -1;
    let bestOverlap = 0;
    for (const [i, region] of regions.entries()) {
      const o = overlap(turn, region);
      if (o > bestOverlap) {
        best = i;
        bestOverlap = o;
      }
    }
    if (best < 0) falseAlarms++;
    else owned[best].push(turn);
  }
  const score: TurnScore = {
    regions: regions.length,
    found: 0,
    falseSplits: 0,
    falseAlarms,
    startErrors: [],
    endErrors: [],
  };
  for (const [i, list] of owned.entries()) {
    if (list.length === 0) continue;
    score.found++;
    score.falseSplits += list.length - 1;
    score.startErrors.push(Math.min(...list.map((t) => t.startMs)) - regions[i].startMs);
    score.endErrors.push(Math.max(...list.map((t) => t.endMs)) - regions[i].endMs);
  }
  return score;
}

/** Adds scores up (e.g. the takes of one noise condition). */
export function addScores(scores: readonly TurnScore[]): TurnScore {
  return {
    regions: scores.reduce((n, s) => n + s.regions, 0),
    found: scores.reduce((n, s) => n + s.found, 0),
    falseSplits: scores.reduce((n, s) => n + s.falseSplits, 0),
    falseAlarms: scores.reduce((n, s) => n + s.falseAlarms, 0),
    startErrors: scores.flatMap((s) => s.startErrors),
    endErrors: scores.flatMap((s) => s.endErrors),
  };
}

/**
 * Pairs start and end events into turns; a turn still open at the end of the audio ends there.
 *
 * @param events Boundaries in order (`start` / `end`).
 * @param durationMs Length of the audio.
 */
export function pairTurns(
  events: readonly { type: "start" | "end"; atMs: number }[],
  durationMs: number,
): Span[] {
  const turns: Span[] = [];
  let open: number | null = null;
  for (const e of events) {
    if (e.type === "start" && open === null) open = e.atMs;
    else if (e.type === "end" && open !== null) {
      turns.push({ startMs: open, endMs: e.atMs });
      open = null;
    }
  }
  if (open !== null) turns.push({ startMs: open, endMs: durationMs });
  return turns;
}
