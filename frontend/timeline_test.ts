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

Deno.test("lines of a later call are shifted by that call's offset, page-VAD times are not", () => {
  const t = new Timeline();
  const turn = (item: string, call: number, start: number, text: string) => {
    for (
      const e of [
        { type: "input_audio_buffer.speech_started", item_id: item, audio_start_ms: start },
        { type: "input_audio_buffer.speech_stopped", item_id: item, audio_end_ms: start + 1000 },
        { type: "input_audio_buffer.committed", item_id: item, previous_item_id: null },
        { type: P + "completed", item_id: item, transcript: text },
      ]
    ) {
      t.noteCall(item, call);
      t.transcript.apply(e);
    }
  };
  t.setCallOffset(2, 61_000); // the page's estimate until the server says
  turn("a", 1, 500, "call one");
  turn("b", 2, 300, "call two");
  t.transcript.apply({ type: P + "delta", item_id: "c", delta: "still talking" });
  t.noteCall("c", 2);
  assert.equal(t.callOf("b"), 2);
  assert.deepEqual(t.all().map((u) => [u.text, u.startMs, u.endMs]), [
    ["call one", 500, 1500],
    ["call two", 61_300, 62_300],
    ["still talking", null, null],
  ]);
  // The server's offset replaces the estimate; setting it again changes nothing.
  assert.equal(t.setCallOffset(2, 61_250), true);
  assert.equal(t.setCallOffset(2, 61_250), false);
  const b = t.transcript.get("b")!;
  assert.deepEqual([t.sessionTimes(b).startMs, t.shifted(b).startMs], [61_550, 61_550]);
  assert.equal(t.pending(1), false);
  assert.equal(t.pending(2), true);
  assert.equal(t.pending(), true);

  // A new session on the page: the archive follows, and the Store's clock (sessionTimes) does not.
  t.archive();
  assert.equal(t.offsetMs, 63_550);
  t.speechEnded("d", performance.now(), { startMs: 100, endMs: 900 });
  t.noteCall("d", 3);
  t.setCallOffset(3, 5000); // would be wrong for page-VAD times, which run on the page's clock
  t.transcript.apply({
    type: "input_audio_buffer.committed",
    item_id: "d",
    previous_item_id: null,
  });
  t.transcript.apply({ type: P + "completed", item_id: "d", transcript: "page committed" });
  const d = t.all().at(-1)!;
  assert.deepEqual([d.text, d.startMs, d.endMs], ["page committed", 63_650, 64_450]);
  assert.equal(t.sessionTimes(t.transcript.get("d")!).startMs, null);
});
