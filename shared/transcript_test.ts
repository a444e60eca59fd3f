import assert from "node:assert/strict";
import {
  confidenceFromLogprobs,
  itemIdOf,
  orderUtterances,
  reduceUtterance,
  Transcript,
  type Utterance,
} from "./transcript.js";

const P = "conversation.item.input_audio_transcription.";
let seq = 0;
const eid = () => `event_${++seq}`;

function committed(item: string, prev: string | null) {
  return {
    type: "input_audio_buffer.committed",
    event_id: eid(),
    item_id: item,
    previous_item_id: prev,
  };
}
function started(item: string, ms: number) {
  return {
    type: "input_audio_buffer.speech_started",
    event_id: eid(),
    item_id: item,
    audio_start_ms: ms,
  };
}
function stopped(item: string, ms: number) {
  return {
    type: "input_audio_buffer.speech_stopped",
    event_id: eid(),
    item_id: item,
    audio_end_ms: ms,
  };
}
function delta(
  item: string,
  text: string,
  extra: Record<string, unknown> = {},
) {
  return {
    type: P + "delta",
    event_id: eid(),
    item_id: item,
    content_index: 0,
    delta: text,
    ...extra,
  };
}
function completed(
  item: string,
  transcript: string,
  extra: Record<string, unknown> = {},
) {
  return {
    type: P + "completed",
    event_id: eid(),
    item_id: item,
    content_index: 0,
    transcript,
    usage: {
      type: "tokens",
      input_tokens: 3,
      output_tokens: 2,
      total_tokens: 5,
    },
    ...extra,
  };
}
function failed(item: string, message: string) {
  return {
    type: P + "failed",
    event_id: eid(),
    item_id: item,
    content_index: 0,
    error: { type: "server_error", code: null, message, param: null },
  };
}
function added(
  item: string,
  prev: string | null,
  type = "conversation.item.added",
) {
  return {
    type,
    event_id: eid(),
    previous_item_id: prev,
    item: {
      id: item,
      type: "message",
      status: "completed",
      role: "user",
      content: [{ type: "input_audio", transcript: null }],
    },
  };
}

Deno.test("itemIdOf reads item_id and item.id, null otherwise", () => {
  assert.equal(itemIdOf(delta("item_a", "x")), "item_a");
  assert.equal(itemIdOf(added("item_b", null)), "item_b");
  assert.equal(
    itemIdOf({ type: "session.created", event_id: "e", session: {} }),
    null,
  );
  assert.equal(itemIdOf(null), null);
  assert.equal(itemIdOf("item_a"), null);
});

Deno.test("confidenceFromLogprobs is the mean token probability", () => {
  const p = confidenceFromLogprobs([
    { token: "a", logprob: Math.log(0.9), bytes: [] },
    { token: "b", logprob: Math.log(0.5), bytes: [] },
  ]);
  assert.ok(p !== null && Math.abs(p - 0.7) < 1e-9);
  assert.equal(confidenceFromLogprobs([]), null);
  assert.equal(confidenceFromLogprobs(null), null);
  assert.equal(confidenceFromLogprobs([{ token: "a" }]), null);
  assert.equal(confidenceFromLogprobs([{ logprob: 0 }]), 1);
});

Deno.test("one utterance goes pending → partial → final with times, confidence, languages", () => {
  const t = new Transcript();
  t.apply({ type: "session.created", event_id: eid(), session: {} });
  t.apply(started("i1", 120));
  assert.equal(t.get("i1")?.status, "pending");
  t.apply(stopped("i1", 1800));
  t.apply(committed("i1", null));
  t.apply(added("i1", null));
  t.apply(added("i1", null, "conversation.item.done"));
  t.apply(delta("i1", "Hello"));
  assert.equal(t.get("i1")?.status, "partial");
  t.apply(delta("i1", " wor"));
  assert.equal(t.get("i1")?.text, "Hello wor");
  const u = t.apply(completed("i1", "Hello world.", {
    logprobs: [{ token: "Hello", logprob: 0, bytes: [] }, {
      token: " world",
      logprob: 0,
      bytes: [],
    }],
    languages: [{ code: "en" }],
  }));
  assert.deepEqual(u, {
    itemId: "i1",
    previousItemId: null,
    status: "final",
    text: "Hello world.",
    startMs: 120,
    endMs: 1800,
    confidence: 1,
    error: null,
    languages: ["en"],
    committed: true,
  });
});

Deno.test("out-of-order completed across items keeps spoken order", () => {
  const t = new Transcript();
  for (
    const e of [
      committed("i1", null),
      committed("i2", "i1"),
      committed("i3", "i2"),
    ]
  ) t.apply(e);
  t.apply(completed("i3", "third"));
  t.apply(completed("i1", "first"));
  t.apply(completed("i2", "second"));
  assert.deepEqual(t.list().map((u) => u.text), ["first", "second", "third"]);
  assert.ok(t.list().every((u) => u.status === "final"));
});

Deno.test("interleaved deltas of two items are kept apart", () => {
  const t = new Transcript();
  t.apply(committed("a", null));
  t.apply(committed("b", "a"));
  t.apply(delta("b", "Bra"));
  t.apply(delta("a", "Al"));
  t.apply(delta("b", "vo"));
  t.apply(delta("a", "pha"));
  assert.equal(t.get("a")?.text, "Alpha");
  assert.equal(t.get("b")?.text, "Bravo");
  assert.deepEqual(t.list().map((u) => u.itemId), ["a", "b"]);
});

Deno.test("whisper-1's single delta equals the whole text and completed does not double it", () => {
  const t = new Transcript();
  t.apply(committed("w", null));
  t.apply(delta("w", "The whole turn."));
  assert.equal(t.get("w")?.text, "The whole turn.");
  t.apply(completed("w", "The whole turn."));
  assert.equal(t.get("w")?.text, "The whole turn.");
  assert.equal(t.get("w")?.status, "final");
});

Deno.test("failures mark the utterance failed with the message; a final is never downgraded", () => {
  const t = new Transcript();
  t.apply(committed("f", null));
  t.apply(delta("f", "par"));
  const u = t.apply(failed("f", "Input transcription failed for item 'f'."));
  assert.equal(u?.status, "failed");
  assert.equal(u?.error, "Input transcription failed for item 'f'.");
  assert.equal(
    t.apply(delta("f", "tial")),
    undefined,
    "deltas after a failure change nothing",
  );
  t.apply(committed("g", "f"));
  t.apply(completed("g", "done"));
  assert.equal(t.apply(failed("g", "late")), undefined);
  assert.equal(t.get("g")?.status, "final");
  const noMessage = reduceUtterance(undefined, {
    type: P + "failed",
    item_id: "h",
    error: {},
  });
  assert.equal(noMessage?.error, "Transcription failed");
});

Deno.test("duplicate events are idempotent, deltas included", () => {
  const events = [
    started("d", 0),
    committed("d", null),
    delta("d", "one "),
    delta("d", "two"),
    stopped("d", 900),
  ];
  let once: Utterance | undefined;
  for (const e of events) once = reduceUtterance(once, e);
  let twice: Utterance | undefined;
  for (const e of events) twice = reduceUtterance(reduceUtterance(twice, e), e);
  assert.deepEqual(twice, once);
  assert.equal(twice?.text, "one two");
  const t = new Transcript();
  for (const e of events) {
    t.apply(e);
    assert.equal(
      t.apply(e),
      undefined,
      `duplicate ${e.type} reports no change`,
    );
  }
  const c = completed("d", "one two.");
  const fin = t.apply(c);
  assert.equal(t.apply(c), undefined);
  assert.deepEqual(t.get("d"), fin);
  // A delta that repeats the same text but is a different event is appended.
  const r = reduceUtterance(
    reduceUtterance(undefined, delta("r", "no ")),
    delta("r", "no "),
  );
  assert.equal(r?.text, "no no ");
});

Deno.test("deltas arriving after completed change nothing; completed overrides partials", () => {
  const t = new Transcript();
  t.apply(committed("x", null));
  t.apply(delta("x", "helo wrld"));
  t.apply(completed("x", "Hello world."));
  assert.equal(t.apply(delta("x", " extra")), undefined);
  assert.equal(t.get("x")?.text, "Hello world.");
});

Deno.test("orphan events create an utterance ordered after the linked chain", () => {
  const t = new Transcript();
  t.apply(committed("i1", null));
  t.apply(completed("i1", "first"));
  // Completed for an item never committed (its commit was lost).
  t.apply(completed("orphan", "lost commit"));
  // A chain fragment whose previous item was never seen, spoken earlier than the orphan.
  t.apply(started("i5", 5000));
  t.apply(committed("i5", "i4-missing"));
  t.apply(committed("i6", "i5"));
  assert.deepEqual(t.list().map((u) => u.itemId), ["i1", "i5", "i6", "orphan"]);
  assert.equal(t.get("orphan")?.committed, false);
  // Non-utterance events are ignored.
  assert.equal(
    t.apply({ type: "error", event_id: eid(), error: { message: "x" } }),
    undefined,
  );
  assert.equal(
    t.apply({ type: "rate_limits.updated", item_id: "zz" }),
    undefined,
  );
  assert.equal(t.get("zz"), undefined);
  t.clear();
  assert.deepEqual(t.list(), []);
});

Deno.test("orderUtterances sorts unlinked items by startMs and survives cycles", () => {
  const mk = (itemId: string, over: Partial<Utterance>): Utterance => ({
    itemId,
    previousItemId: null,
    status: "final",
    text: itemId,
    startMs: null,
    endMs: null,
    confidence: null,
    error: null,
    languages: null,
    committed: false,
    ...over,
  });
  const out = orderUtterances([
    mk("late", { startMs: 9000 }),
    mk("b", { committed: true, previousItemId: "a" }),
    mk("unknown", {}),
    mk("a", { committed: true, previousItemId: null, startMs: 10_000 }),
    mk("early", { startMs: 100 }),
  ]);
  assert.deepEqual(out.map((u) => u.itemId), [
    "a",
    "b",
    "early",
    "late",
    "unknown",
  ]);
  const cyc = orderUtterances([
    mk("p", { committed: true, previousItemId: "q" }),
    mk("q", { committed: true, previousItemId: "p" }),
  ]);
  assert.deepEqual(cyc.map((u) => u.itemId).sort(), ["p", "q"]);
});

Deno.test("item.added sets the link when committed was missed; assistant items are ignored", () => {
  const t = new Transcript();
  t.apply(added("m1", null));
  t.apply(added("m2", "m1"));
  assert.deepEqual(t.list().map((u) => u.itemId), ["m1", "m2"]);
  assert.equal(t.get("m2")?.committed, true);
  const assistant = {
    type: "conversation.item.added",
    item: {
      id: "as",
      role: "assistant",
      content: [{ type: "output_text", text: "hi" }],
    },
  };
  assert.equal(t.apply(assistant), undefined);
});

Deno.test("timeout_triggered sets the times of its item", () => {
  const u = reduceUtterance(undefined, {
    type: "input_audio_buffer.timeout_triggered",
    item_id: "to",
    audio_start_ms: 10,
    audio_end_ms: 700,
  });
  assert.equal(u?.startMs, 10);
  assert.equal(u?.endMs, 700);
});

Deno.test("orderUtterances() keeps calls in the order they were first seen when times restart", () => {
  const t = new Transcript();
  const turn = (item: string, prev: string | null, start: number, text: string) => [
    { type: "input_audio_buffer.speech_started", item_id: item, audio_start_ms: start },
    { type: "input_audio_buffer.committed", item_id: item, previous_item_id: prev },
    {
      type: "conversation.item.input_audio_transcription.completed",
      item_id: item,
      transcript: text,
    },
  ];
  // Call 1, then the session continues on call 2 whose audio clock starts again near 0.
  for (
    const e of [
      ...turn("c1_a", null, 4000, "first call, first line"),
      ...turn("c1_b", "c1_a", 9000, "first call, second line"),
      ...turn("c2_a", null, 300, "second call, first line"),
      ...turn("c2_b", "c2_a", 2500, "second call, second line"),
    ]
  ) t.apply(e);
  assert.deepEqual(t.list().map((u) => u.itemId), ["c1_a", "c1_b", "c2_a", "c2_b"]);
});

Deno.test("reduceUtterance() adds the call's offset to audio times, and only to them", () => {
  const fold = (events: Record<string, unknown>[], offsetMs?: number) =>
    events.reduce<Utterance | undefined>(
      (u, e) => reduceUtterance(u, e, offsetMs === undefined ? undefined : { offsetMs }),
      undefined,
    );
  const events = [
    started("o1", 300),
    stopped("o1", 1200),
    committed("o1", null),
    { type: P + "completed", event_id: eid(), item_id: "o1", transcript: "later call" },
  ];
  const shifted = fold(events, 61_500)!;
  assert.equal(shifted.startMs, 61_800);
  assert.equal(shifted.endMs, 62_700);
  assert.equal(shifted.text, "later call");
  assert.deepEqual({ ...fold(events)!, startMs: 61_800, endMs: 62_700 }, shifted);
  const timeout = reduceUtterance(undefined, {
    type: "input_audio_buffer.timeout_triggered",
    item_id: "o2",
    audio_start_ms: 100,
    audio_end_ms: 5100,
  }, { offsetMs: 1000 });
  assert.deepEqual([timeout?.startMs, timeout?.endMs], [1100, 6100]);
  // A missing time stays missing rather than becoming the offset.
  const none = reduceUtterance(undefined, {
    type: "input_audio_buffer.speech_started",
    item_id: "o3",
  }, { offsetMs: 1000 });
  assert.equal(none?.startMs, null);
});
