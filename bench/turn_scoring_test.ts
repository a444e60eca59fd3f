import assert from "node:assert/strict";
import { addScores, pairTurns, scoreTurns } from "./turn_scoring.ts";

const REGIONS = [
  { startMs: 1000, endMs: 3000 },
  { startMs: 5000, endMs: 7000 },
  { startMs: 9000, endMs: 9500 },
];

Deno.test("scoreTurns counts found regions, splits, false alarms and signed boundary errors", () => {
  const score = scoreTurns(REGIONS, [
    { startMs: 950, endMs: 2000 },
    { startMs: 2200, endMs: 3100 }, // splits the first region
    { startMs: 4000, endMs: 4300 }, // in no region
    { startMs: 5040, endMs: 6900 },
  ]);
  assert.deepEqual(score, {
    regions: 3,
    found: 2,
    falseSplits: 1,
    falseAlarms: 1,
    startErrors: [-50, 40],
    endErrors: [100, -100],
  });
});

Deno.test("a turn running over two regions finds only the one it overlaps most", () => {
  const score = scoreTurns(REGIONS, [{ startMs: 5000, endMs: 9400 }]);
  assert.equal(score.found, 1);
  assert.deepEqual(score.startErrors, [0]);
  assert.deepEqual(score.endErrors, [2400]);
});

Deno.test("addScores sums counts and concatenates errors; pairTurns closes an open turn", () => {
  const a = scoreTurns(REGIONS, [{ startMs: 1000, endMs: 3000 }]);
  const b = scoreTurns(REGIONS, [{ startMs: 9010, endMs: 9490 }]);
  const sum = addScores([a, b]);
  assert.equal(sum.regions, 6);
  assert.equal(sum.found, 2);
  assert.deepEqual(sum.startErrors, [0, 10]);
  assert.deepEqual(
    pairTurns([
      { type: "start", atMs: 10 },
      { type: "end", atMs: 20 },
      { type: "end", atMs: 25 },
      { type: "start", atMs: 30 },
    ], 99),
    [{ startMs: 10, endMs: 20 }, { startMs: 30, endMs: 99 }],
  );
});
