import assert from "node:assert/strict";
import { PageTurns, RECENT_SPEECH_MS } from "./turns.js";

Deno.test("PageTurns: with page commits each end of speech is a segment to commit", () => {
  const turns = new PageTurns(true);
  assert.equal(turns.edge({ speaking: true, atMs: 100, wallMs: 1100 }), false);
  assert.equal(turns.open, true);
  assert.equal(turns.edge({ speaking: false, atMs: 900, wallMs: 1900 }), true);
  assert.equal(turns.open, false);
  assert.deepEqual(turns.segments, [{ startMs: 100, endMs: 900, wallEnd: 1900 }]);
  // The commit's item ends where the page's segment ended, whatever else was heard.
  assert.deepEqual(turns.speechEnd("input_audio_buffer.committed", 2500, 2600), {
    wall: 1900,
    segment: { startMs: 100, endMs: 900, wallEnd: 1900 },
  });
  assert.deepEqual(turns.segments, []);
});

Deno.test("PageTurns: Stop closes a turn in progress, only with page commits", () => {
  const page = new PageTurns(true);
  assert.equal(page.closeAt(50), false, "no turn in progress");
  page.edge({ speaking: true, atMs: 10, wallMs: 10 });
  assert.equal(page.closeAt(500), true);
  assert.deepEqual(page.segments, [{ startMs: 10, endMs: null, wallEnd: 500 }]);
  const server = new PageTurns(false);
  server.edge({ speaking: true, atMs: 10, wallMs: 10 });
  assert.equal(server.open, false);
  assert.equal(server.closeAt(500), false);
  assert.equal(server.edge({ speaking: false, atMs: 20, wallMs: 20 }), false);
  assert.deepEqual(server.segments, []);
});

Deno.test("PageTurns.speechEnd(): the page's last speech frame when recent, else the event's arrival", () => {
  const turns = new PageTurns(false);
  const stopped = "input_audio_buffer.speech_stopped";
  assert.deepEqual(turns.speechEnd(stopped, 9000, 9400), { wall: 9000, segment: null });
  assert.equal(turns.speechEnd(stopped, 9000, 9000 + RECENT_SPEECH_MS).wall, 12000, "too old");
  assert.equal(turns.speechEnd(stopped, 9500, 9400).wall, 9400, "not after the event");
  assert.equal(turns.speechEnd(stopped, null, 9400).wall, 9400, "nothing heard");
  // Without the audio meter's frame, the VAD's last end of speech stands in.
  turns.edge({ speaking: false, atMs: 0, wallMs: 9100 });
  assert.equal(turns.speechEnd(stopped, undefined, 9400).wall, 9100);
  // A commit with no page segment (server VAD) is timed the same way.
  assert.deepEqual(turns.speechEnd("input_audio_buffer.committed", null, 9200), {
    wall: 9100,
    segment: null,
  });
});
