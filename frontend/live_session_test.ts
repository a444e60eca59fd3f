/**
 * The live session without a browser: the real app and its emulator on loopback (minting,
 * continuing, gap repair, the end reason), a manual clock, and stand-ins for what only a browser
 * has (the WebRTC connection, the microphone, the page's VAD, the DOM). The same flows run with
 * Chromium's real WebRTC in `testing/page_*_test.ts` and `testing/browser_resilience_test.ts`.
 */
import assert from "node:assert/strict";
import { createLiveSession, STOP_DRAIN_MS } from "./live_session.js";
import { createPreminter } from "./preminter.js";
import { ConnectionError } from "./api.js";
import { Timeline } from "./timeline.js";
import { startTestApp, type TestApp, waitFor } from "../testing/server.ts";
import {
  fakeAudio,
  FakeCall,
  fakeMicrophone,
  ManualClock,
  PagePorts,
  transcriptEvents,
} from "../testing/live_session_kit.ts";

/** A session on the real app, with every browser part stood in for. */
function liveOn(t: TestApp, options: { model?: string; take?: () => Promise<never> } = {}) {
  const local: typeof fetch = (input, init) => fetch(new URL(String(input), t.baseUrl), init);
  const clock = new ManualClock();
  const timeline = new Timeline({ now: clock.now });
  const ports = new PagePorts();
  const calls: FakeCall[] = [];
  const mic = fakeMicrophone();
  const audio = fakeAudio();
  const keys = createPreminter({
    options: () => (options.model ? { model: options.model } : {}),
    fetch: local,
  });
  const session = createLiveSession({
    connect: (params) => {
      const call = new FakeCall(params);
      calls.push(call);
      return Promise.resolve(call);
    },
    openMicrophone: () => mic.open(),
    startAudio: (params) => Promise.resolve(audio.start(params)),
    sessions: options.take ? { take: options.take, giveBack: () => {} } : keys,
    timeline,
    lines: ports.lines,
    status: ports.status,
    log: ports.log,
    controls: ports.controls,
    fetch: local,
    clock,
    limits: () => ({ maxSessionSeconds: 900 }),
  });
  return { session, clock, timeline, ports, calls, mic, audio, keys };
}

Deno.test("Start goes live, captions render with their latency, Stop posts the final lines and hangs up", async () => {
  const t = await startTestApp();
  // A model OpenAI ends the turns of (server VAD): the default one leaves that to the page.
  const s = liveOn(t, { model: "gpt-transcribe" });
  try {
    await s.session.start({ pageCommits: false, silenceMs: 700 });
    assert.equal(s.ports.status.state, "live");
    const sessionId = s.ports.started[0].sessionId;
    assert.equal(s.calls[0].params.session.sessionId, sessionId);
    assert.ok(await t.store.getSession(sessionId), "the session was minted on the server");
    assert.deepEqual(s.ports.started, [{ sessionId, pageCommits: false }]);
    assert.equal(s.audio.silenceMs, 700);

    // The page heard the last speech 150 ms before the server's speech_stopped arrived.
    s.audio.heard = s.clock.now() - 150;
    const speechEnd = s.audio.heard;
    s.calls[0].emit(...transcriptEvents("item_1", "Hello world", { startMs: 100, endMs: 900 }));
    await s.clock.advance(400);
    s.calls[0].emit({
      type: "conversation.item.input_audio_transcription.completed",
      event_id: "ev_item_1_done",
      item_id: "item_1",
      content_index: 0,
      transcript: "Hello world",
    });
    const final = s.ports.lastLine("item_1");
    assert.equal(final?.u.status, "final");
    assert.equal(final?.u.text, "Hello world");
    assert.deepEqual([final?.u.startMs, final?.u.endMs], [100, 900]);
    assert.equal(final?.facts?.latencyMs, s.clock.now() - speechEnd);

    await s.session.stop();
    assert.deepEqual(s.ports.states.slice(-3), ["stopping", "idle", "idle:Stopped"]);
    assert.equal(s.calls[0].stopped, true, "hung up");
    assert.equal(s.mic.stoppedTracks, 1, "the microphone is closed");
    assert.equal(s.audio.stopped, true);
    assert.equal(s.ports.ended, 1);
    assert.equal(s.session.active, false);
    const rows = await t.store.listUtterances(sessionId);
    assert.deepEqual(rows.map((r) => [r.text, r.seenBy, r.startMs, r.endMs]), [
      ["Hello world", "browser", 100, 900],
    ]);
  } finally {
    s.keys.stop();
    await t.close();
  }
});

Deno.test("page commits: an end of speech commits the turn, its line gets the page's times; Stop commits a turn in progress", async () => {
  const t = await startTestApp();
  const s = liveOn(t, { model: "gpt-realtime-whisper" });
  try {
    // The page thought the server detects turns; the session says the page commits them.
    await s.session.start({ pageCommits: false, silenceMs: 500 });
    assert.equal(s.ports.started[0].pageCommits, true);
    const call = s.calls[0];
    s.audio.edge({ speaking: true, atMs: 200, wallMs: s.clock.now() });
    await s.clock.advance(1200);
    const ended = s.clock.now();
    s.audio.edge({ speaking: false, atMs: 1400, wallMs: ended });
    assert.deepEqual(call.sent, [{ type: "input_audio_buffer.commit" }]);
    assert.deepEqual(s.ports.logged.at(-1), ["input_audio_buffer.commit", "out"]);
    await s.clock.advance(300);
    call.emit(
      { type: "input_audio_buffer.committed", event_id: "ev_c", item_id: "item_2" },
      {
        type: "conversation.item.input_audio_transcription.completed",
        event_id: "ev_d",
        item_id: "item_2",
        content_index: 0,
        transcript: "Page turn",
      },
    );
    const line = s.ports.lastLine("item_2");
    assert.equal(line?.u.text, "Page turn");
    assert.deepEqual([line?.u.startMs, line?.u.endMs], [null, null], "the events carry no times");
    assert.deepEqual([line?.facts?.startMs, line?.facts?.endMs], [200, 1400]);
    assert.equal(line?.facts?.latencyMs, 300);
    assert.deepEqual(s.timeline.all().map((u) => [u.startMs, u.endMs]), [[200, 1400]]);

    s.audio.edge({ speaking: true, atMs: 2000, wallMs: s.clock.now() });
    await s.session.stop();
    assert.deepEqual(call.sent.length, 2, "the turn in progress was committed at Stop");
  } finally {
    s.keys.stop();
    await t.close();
  }
});

Deno.test("a lost call moves to a new call of the same session, and the page says what it cost", async () => {
  const t = await startTestApp();
  const s = liveOn(t);
  try {
    await s.session.start({ pageCommits: false, silenceMs: 700 });
    const first = s.calls[0];
    first.emit(...transcriptEvents("item_a", "Before", { startMs: 0, endMs: 500, final: true }));
    await s.clock.advance(2000);
    first.status("failed"); // what connect() reports with the peer's connectionState
    assert.equal(s.ports.status.text, "Reconnecting…");
    first.pc.set("failed");
    await waitFor(() => s.calls.length === 2 && s.ports.status.state === "live");
    assert.equal(first.stopped, true, "the lost call was hung up first");
    const second = s.calls[1];
    const sessionId = first.params.session.sessionId;
    assert.equal(second.params.session.sessionId, sessionId);
    assert.notEqual(second.params.session.ephemeralKey, first.params.session.ephemeralKey);
    assert.match(s.ports.messages.at(-1) ?? "", /^The connection dropped and was restored/);
    // Gap repair ran before the new call took over.
    assert.deepEqual((await t.store.listUtterances(sessionId)).map((r) => r.text), ["Before"]);
    second.emit(...transcriptEvents("item_b", "After", { startMs: 0, endMs: 400, final: true }));
    // The server never attached to either stand-in call: the page's estimate places the second.
    assert.deepEqual(s.timeline.all().map((u) => [u.text, u.startMs]), [["Before", 0], [
      "After",
      2000,
    ]]);
    await s.session.stop();
    assert.equal(second.stopped, true);
  } finally {
    s.keys.stop();
    await t.close();
  }
});

Deno.test("session_expired ends the session: the page asks the server, then explains", async () => {
  const t = await startTestApp();
  const s = liveOn(t);
  try {
    await s.session.start({ pageCommits: false, silenceMs: 700 });
    s.calls[0].emit({
      type: "error",
      event_id: "ev_x",
      error: { type: "invalid_request_error", code: "session_expired", message: "Expired" },
    });
    assert.equal(s.session.active, true, "OpenAI closes the session right after; not yet");
    await s.clock.advance(300);
    await waitFor(() => !s.session.active);
    assert.equal(s.ports.states.at(-1), "idle:Ended");
    assert.match(s.ports.messages.at(-1) ?? "", /60-minute limit/);
    assert.equal(s.calls[0].stopped, true);
  } finally {
    s.keys.stop();
    await t.close();
  }
});

Deno.test("a call the server ended is explained with the server's reason", async () => {
  const t = await startTestApp();
  const s = liveOn(t);
  try {
    await s.session.start({ pageCommits: false, silenceMs: 700 });
    const sessionId = s.ports.started[0].sessionId;
    await t.store.updateSession(sessionId, {
      status: "ended",
      endReason: "max_duration",
      endedAt: Date.now(),
    });
    s.calls[0].emit({ type: "error", event_id: "ev_y", error: { code: "other", message: "Odd" } });
    assert.equal(s.ports.messages.at(-1), "OpenAI reported an error: Odd.");
    s.calls[0].status("ended"); // the data channel closed
    await waitFor(() => !s.session.active);
    assert.equal(s.ports.states.at(-1), "idle:Ended");
    assert.match(s.ports.messages.at(-1) ?? "", /maximum length \(15 min\).+MAX_SESSION_SECONDS/);
  } finally {
    s.keys.stop();
    await t.close();
  }
});

Deno.test("a refused microphone hands the session back; a 429 holds Start for Retry-After", async () => {
  const t = await startTestApp();
  const s = liveOn(t);
  const limited = liveOn(t, {
    take: () => Promise.reject(new ConnectionError("Slow down", { status: 429, retryAfter: 7 })),
  });
  try {
    s.mic.refuse = new DOMException("denied", "NotAllowedError");
    await s.session.start({ pageCommits: false, silenceMs: 700 });
    assert.match(s.ports.messages.at(-1) ?? "", /^Microphone access was denied/);
    assert.equal(s.ports.status.state, "idle");
    assert.equal(s.calls.length, 0);
    assert.equal(s.session.active, false);
    // The next Start takes the same session: no second concurrency slot was used.
    s.mic.refuse = null;
    const minted = (await t.store.listSessions({ limit: 5 })).sessions.map((r) => r.id);
    await s.session.start({ pageCommits: false, silenceMs: 700 });
    assert.deepEqual([s.ports.started[0].sessionId], minted);
    await s.session.stop();

    await limited.session.start({ pageCommits: false, silenceMs: 700 });
    assert.match(limited.ports.messages.at(-1) ?? "", /Try again in 7 s\.$/);
    assert.equal(limited.ports.holds.length, 1);
    assert.equal(limited.ports.holds[0].seconds, 7);
    assert.equal(limited.ports.holds[0].busy(), false, "Start comes back once the wait is over");
  } finally {
    s.keys.stop();
    limited.keys.stop();
    await t.close();
  }
});

Deno.test("gap repair posts new final lines every 15 s while live", async () => {
  const t = await startTestApp();
  const s = liveOn(t);
  try {
    await s.session.start({ pageCommits: false, silenceMs: 700 });
    const sessionId = s.ports.started[0].sessionId;
    s.calls[0].emit(...transcriptEvents("item_g", "Kept", { startMs: 10, endMs: 20, final: true }));
    await s.clock.advance(14_000);
    assert.deepEqual(await t.store.listUtterances(sessionId), []);
    await s.clock.advance(1_000);
    await waitFor(async () => (await t.store.listUtterances(sessionId)).length === 1);
    s.session.setSilence(900);
    assert.equal(s.audio.silenceMs, 900);
    await s.session.stop();
  } finally {
    s.keys.stop();
    await t.close();
  }
});

Deno.test("a session whose server VAD OpenAI refused: the page commits its turns and says why", async () => {
  const t = await startTestApp();
  t.emulator.control.models.refuse = { "gpt-transcribe": ["turn_detection"] };
  const s = liveOn(t, { model: "gpt-transcribe" });
  try {
    await s.session.start({ pageCommits: false, silenceMs: 500 });
    assert.equal(s.ports.status.state, "live");
    assert.equal(s.ports.started[0].pageCommits, true);
    const said = s.ports.messages.filter((m) => m !== null);
    assert.equal(said.length, 1);
    assert.match(
      said[0]!,
      /^OpenAI refused server turn detection for gpt-transcribe .+ the page ends each turn itself\.$/,
    );
    s.audio.edge({ speaking: true, atMs: 100, wallMs: s.clock.now() });
    await s.clock.advance(900);
    s.audio.edge({ speaking: false, atMs: 1000, wallMs: s.clock.now() });
    assert.deepEqual(s.calls[0].sent, [{ type: "input_audio_buffer.commit" }]);
    await s.session.stop();
  } finally {
    s.keys.stop();
    await t.close();
  }
});

Deno.test("Stop commits text streamed before any commit, waits, and keeps an unfinished line (cut off)", async () => {
  const t = await startTestApp();
  const s = liveOn(t);
  try {
    await s.session.start({ pageCommits: true, silenceMs: 700 });
    assert.equal(s.ports.status.state, "live");
    // The default model streams while the person speaks: text, no commit yet.
    const delta = (id: string, text: string) => ({
      type: "conversation.item.input_audio_transcription.delta",
      event_id: `ev_${id}_delta`,
      item_id: id,
      content_index: 0,
      delta: text,
    });
    s.calls[0].emit(delta("item_a", "Stopped in the middle"));
    const stopping = s.session.stop();
    await s.clock.advance(0);
    assert.deepEqual(s.calls[0].sent.map((e) => e.type), ["input_audio_buffer.commit"]);
    assert.equal(s.ports.status.state, "stopping", "the status waits for the line");
    await s.clock.advance(STOP_DRAIN_MS - 200);
    assert.equal(s.ports.status.state, "stopping");
    await s.clock.advance(400);
    await stopping;
    assert.deepEqual(s.ports.states.slice(-2), ["idle", "idle:Stopped"]);
    assert.equal(s.ports.lastLine("item_a")?.facts?.cutOff, true);
    assert.deepEqual(s.timeline.shown().map((u) => [u.status, u.text]), [
      ["final", "Stopped in the middle (cut off)"],
    ]);

    // Next time the final text comes while Stop waits: the line is final, nothing is cut off.
    await s.session.start({ pageCommits: true, silenceMs: 700 });
    s.calls[1].emit(delta("item_b", "Finished in"));
    const again = s.session.stop();
    await s.clock.advance(300);
    s.calls[1].emit({
      type: "conversation.item.input_audio_transcription.completed",
      event_id: "ev_item_b_done",
      item_id: "item_b",
      content_index: 0,
      transcript: "Finished in time.",
    });
    await s.clock.advance(200);
    await again;
    assert.equal(s.ports.lastLine("item_b")?.facts?.cutOff, undefined);
    assert.deepEqual(s.timeline.shown().map((u) => u.text), [
      "Stopped in the middle (cut off)",
      "Finished in time.",
    ]);
  } finally {
    s.keys.stop();
    await t.close();
  }
});
