import assert from "node:assert/strict";
import { alignTranslations, placeDeltas, translatedUtterances } from "./translations.js";

const lines = [
  { itemId: "b", startMs: 5000, endMs: 6500, text: "Second." },
  { itemId: "a", startMs: 1000, endMs: 2500, text: "First." },
];
const at = (atMs: number, text: string, language = "es", extra = {}) => ({
  language,
  text,
  atMs,
  ...extra,
});

Deno.test("alignTranslations: each delta under the latest line started by its time, in time order", () => {
  const { byLine, pending } = alignTranslations(lines, [
    at(2200, " Primera"),
    at(6200, " segunda."),
    at(3400, " línea."),
    at(500, "Temprano"),
    at(2300, "Erste", "de"),
    at(3000, " input", "es", { kind: "input" }),
  ]);
  assert.deepEqual([...byLine.get("a")!], [["es", "Temprano Primera línea."], ["de", "Erste"]]);
  assert.deepEqual([...byLine.get("b")!], [["es", "segunda."]]);
  assert.deepEqual([...pending], []);
});

Deno.test("alignTranslations: text later than the last line's end plus the lag is pending", () => {
  const { byLine, pending } = alignTranslations(lines, [at(6600 + 3000, "Tarde"), at(8800, "Ya")], {
    slackMs: 2500,
  });
  assert.deepEqual([...byLine.get("b")!], [["es", "Ya"]]);
  assert.deepEqual([...pending], [["es", "Tarde"]]);
  // No lines at all: everything waits.
  assert.deepEqual([...alignTranslations([], [at(1, "x")]).pending], [["es", "x"]]);
});

Deno.test("placeDeltas: the page's itemId wins when that line exists; untimed lines are only placed so", () => {
  const untimed = [{ itemId: "u", startMs: null, endMs: null }, ...lines];
  assert.deepEqual(
    placeDeltas(untimed, [
      at(2200, "x", "es", { itemId: "u" }),
      at(2200, "y", "es", { itemId: "gone" }),
      at(5100, "z"),
    ]),
    ["u", "a", "b"],
  );
});

Deno.test("translatedUtterances: one language's lines with the source times, lines without it left out", () => {
  const { byLine } = alignTranslations(lines, [at(2000, "Uno."), at(5200, "Eins.", "de")]);
  assert.deepEqual(translatedUtterances([lines[1], lines[0]], byLine, "es"), [
    { itemId: "a", startMs: 1000, endMs: 2500, text: "Uno." },
  ]);
});
