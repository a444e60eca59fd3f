import assert from "node:assert/strict";
import { utteranceFromRow } from "./utterance_row.js";
import { reduceUtterance } from "./transcript.js";

const row = {
  sessionId: "s_1",
  itemId: "item_1",
  previousItemId: null,
  status: "final" as const,
  text: "Hello",
  startMs: 120,
  endMs: 900,
  confidence: 0.9,
  error: null,
  seenBy: "both",
};

Deno.test("utteranceFromRow keeps the utterance fields, drops the row's own and marks it committed", () => {
  assert.deepEqual(utteranceFromRow(row), {
    itemId: "item_1",
    previousItemId: null,
    status: "final",
    text: "Hello",
    startMs: 120,
    endMs: 900,
    confidence: 0.9,
    error: null,
    languages: null,
    committed: true,
  });
  assert.deepEqual(utteranceFromRow({ ...row, languages: ["en"] }).languages, ["en"]);
});

Deno.test("a fold continues from a mapped row", () => {
  const partial = utteranceFromRow({ ...row, status: "partial", text: "Hel" });
  const next = reduceUtterance(partial, {
    type: "conversation.item.input_audio_transcription.completed",
    event_id: "ev_1",
    item_id: "item_1",
    transcript: "Hello there",
  });
  assert.equal(next?.status, "final");
  assert.equal(next?.text, "Hello there");
  assert.equal(next?.startMs, 120);
});
