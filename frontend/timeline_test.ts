import assert from "node:assert/strict";
import { Timeline } from "./timeline.js";

const P = "conversation.item.input_audio_transcription.";

Deno.test("a second session follows the first on one timeline; page-VAD times fill gaps", () => {
  const t = new Timeline();
  t.transcript.apply({
    type: "input_audio_buffer.speech_started",
    item_id: "a",
    audio_start_ms: 500,
  });
  t.transcript.apply({
    type: "input_audio_buffer.speech_stopped",
    item_id: "a",
    audio_end_ms: 2500,
  });
  t.transcript.apply({
    type: "input_audio_buffer.committed",
    item_id: "a",
    previous_item_id: null,
  });
  t.transcript.apply({ type: P + "completed", item_id: "a", transcript: "first" });
  t.transcript.apply({ type: P + "delta", item_id: "p", delta: "never finished" });
  t.archive();
  assert.deepEqual(t.archived.map((u) => u.text), ["first"], "only final lines are kept");
  assert.equal(t.offsetMs, 3500);
  // Second session: a page-committed item without server times.
  t.speechEnded("b", performance.now(), { startMs: 200, endMs: 1200 });
  t.transcript.apply({
    type: "input_audio_buffer.committed",
    item_id: "b",
    previous_item_id: null,
  });
  t.transcript.apply({ type: P + "completed", item_id: "b", transcript: "second" });
  const all = t.all();
  assert.deepEqual(all.map((u) => [u.text, u.startMs, u.endMs]), [
    ["first", 500, 2500],
    ["second", 3700, 4700],
  ]);
  const facts = t.factsFor(t.transcript.get("b")!);
  assert.ok(typeof facts.latencyMs === "number" && facts.latencyMs >= 0);
  assert.equal(facts.startMs, 3700);
  t.clear();
  assert.deepEqual(t.all(), []);
});

Deno.test("the first speech end of an item wins", () => {
  const t = new Timeline();
  t.speechEnded("x", 100);
  t.speechEnded("x", 900);
  assert.equal(t.facts.get("x")?.speechEndWall, 100);
  assert.equal(t.hasSpeechEnd("x"), true);
  assert.equal(t.hasSpeechEnd("y"), false);
});
