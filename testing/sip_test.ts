/**
 * Phone calls end to end: the app on loopback, the emulator's simulated SIP call (signed
 * `realtime.call.incoming` webhook, caller audio played after `/accept`), the real sideband and a
 * real SQLite store. Signatures here come from the emulator's own signer, written independently
 * of `lib/webhook_signature.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startTestApp, waitFor } from "./server.ts";
import { makeUtterancesWav } from "./speech.ts";
import {
  ALLOWED,
  type EmulatorCall,
  FROM_ALLOWED,
  ring,
  sipEnv,
  storedSessions,
  waitForCall,
} from "./sip_kit.ts";

const FROM_STRANGER = "sip:+15555550199@sip.example.com";

Deno.test("an allowed caller's speech becomes stored utterances of a masked sip session", async () => {
  const texts = ["Hello from the phone.", "Please call me back tomorrow."];
  const wav = await makeUtterancesWav(texts, {
    padStartSec: 1,
    padEndSec: 1.5,
    gapSec: 1.2,
  });
  const t = await startTestApp({ env: sipEnv() });
  try {
    t.emulator.control.queueTranscripts(texts);
    const callId = await ring(t, { from: FROM_ALLOWED, wavPath: wav.path });

    const session = await waitFor(() => t.store.getSessionByCallId(callId), {
      message: "the sip session to be stored",
    });
    assert.equal(session.source, "sip");
    assert.equal(session.caller, "+1******0100");

    const call = await waitForCall(
      t,
      callId,
      (c) => c.state === "active" && c.sidebands.length === 1,
      "the call to be accepted and the sideband attached",
    );
    assert.equal(call.session.type, "realtime");
    assert.equal(call.session.audio.input.turn_detection.type, "server_vad");
    assert.equal(
      call.session.audio.input.turn_detection.create_response,
      false,
    );
    assert.equal(call.session.audio.input.transcription.model, session.model);
    assert.deepEqual(call.sip.webhookDeliveries.map((d: EmulatorCall) => d.status), [
      200,
    ]);

    const utterances = await waitFor(async () => {
      const u = await t.store.listUtterances(session.id);
      return u.filter((x) => x.status === "final").length === texts.length ? u : null;
    }, {
      timeoutMs: wav.durationMs + 10_000,
      message: "both utterances to be final",
    });
    assert.deepEqual(utterances.map((u) => u.text), texts);
    assert.ok(utterances.every((u) => u.seenBy === "server"));
    assert.ok(utterances.every((u) => typeof u.confidence === "number"));
    assert.equal((await t.store.getSession(session.id))?.status, "live");

    // The sideband pushed no transcription-type update onto the realtime session (an error).
    assert.deepEqual(
      t.logs.filter((l) => l.level === "warn" || l.level === "error"),
      [],
    );
    // The sessions API shows the call like a browser session, with the number masked; a public val
    // (no ACCESS_CODE) never lists a phone call, which has no browser owner.
    const res = await fetch(`${t.baseUrl}/api/sessions/${session.id}`);
    const oneText = await res.text();
    assert.equal(res.status, 200);
    assert.ok(oneText.includes("+1******0100"));
    assert.ok(!oneText.includes(ALLOWED));
    const list = await fetch(`${t.baseUrl}/api/sessions`);
    const listText = await list.text();
    assert.equal(list.status, 200);
    assert.ok(!listText.includes(session.id), "a phone call is not in a public list");
    assert.ok(!listText.includes(ALLOWED));
    assert.ok(
      !t.logs.some((l) => JSON.stringify(l).includes(ALLOWED)),
      "full number logged",
    );
    // Viewable and exportable like a browser session.
    const viewer = await fetch(`${t.baseUrl}/s/${session.id}`);
    await viewer.body?.cancel();
    assert.equal(viewer.status, 200);
    const txt = await fetch(`${t.baseUrl}/api/sessions/${session.id}/transcript?format=txt`);
    const transcript = await txt.text();
    assert.equal(txt.status, 200);
    for (const text of texts) assert.ok(transcript.includes(text), transcript);

    // The call ends: the sideband sees it close and ends the session.
    const hangup = await fetch(
      `${t.emulator.baseUrl}/v1/realtime/calls/${callId}/hangup`,
      {
        method: "POST",
        headers: { Authorization: `Bearer ${t.emulator.apiKey}` },
      },
    );
    await hangup.body?.cancel();
    assert.equal(hangup.status, 200);
    const ended = await waitFor(async () => {
      const row = await t.store.getSession(session.id);
      return row?.status === "ended" ? row : null;
    }, { message: "the session to end after hang-up" });
    assert.equal(ended.endReason, "hangup");
  } finally {
    await t.close();
  }
});

Deno.test("callers are declined with 603 when SIP is disabled", async () => {
  const t = await startTestApp({ env: sipEnv({ SIP_ENABLED: "false" }) });
  try {
    const callId = await ring(t, { from: FROM_ALLOWED });
    const call = await waitForCall(
      t,
      callId,
      (c) => c.state === "ended",
      "the call to be rejected",
    );
    assert.equal(call.sip.rejectStatus, 603);
    assert.equal(call.session, null);
    assert.deepEqual(await storedSessions(t), []);
  } finally {
    await t.close();
  }
});

Deno.test("callers not on the allow-list get 603; a full line or a spent day gets 486", async () => {
  const t = await startTestApp({
    env: sipEnv({ MAX_CONCURRENT_SESSIONS: "1", DAILY_MINUTES: "1" }),
  });
  try {
    for (const from of [FROM_STRANGER, "sip:anonymous@anonymous.invalid"]) {
      const stranger = await ring(t, { from });
      const declined = await waitForCall(
        t,
        stranger,
        (c) => c.state === "ended",
        `the call from ${from} to be rejected`,
      );
      assert.equal(declined.sip.rejectStatus, 603, from);
    }
    assert.deepEqual(await storedSessions(t), []);

    // One live session fills the line (MAX_CONCURRENT_SESSIONS=1).
    const busy = await t.store.createSession({
      source: "webrtc",
      model: "gpt-transcribe",
      settings: {},
    });
    await t.store.updateSession(busy.id, {
      status: "live",
      startedAt: Date.now(),
    });
    const allowed = await ring(t, { from: FROM_ALLOWED });
    const rejected = await waitForCall(
      t,
      allowed,
      (c) => c.state === "ended",
      "the call to be rejected as busy",
    );
    assert.equal(rejected.sip.rejectStatus, 486);
    assert.deepEqual((await storedSessions(t)).map((s) => s.id), [busy.id]);

    // The line is free again, but today's minutes (DAILY_MINUTES=1) are used up.
    await t.store.updateSession(busy.id, { status: "ended", endedAt: Date.now() });
    await t.store.incrementCounter("usage-seconds:*", 86_400_000, 60);
    const late = await ring(t, { from: FROM_ALLOWED });
    const spent = await waitForCall(
      t,
      late,
      (c) => c.state === "ended",
      "the call to be rejected for the daily budget",
    );
    assert.equal(spent.sip.rejectStatus, 486);
    assert.deepEqual((await storedSessions(t)).map((s) => s.id), [busy.id]);
  } finally {
    await t.close();
  }
});

Deno.test("when OpenAI refuses the accept, nothing is kept and the retried delivery answers", async () => {
  const t = await startTestApp({
    env: sipEnv(),
    emulator: { webhookRetryDelaysMs: [1000] },
  });
  try {
    t.emulator.control.failRest({
      endpoint: "accept",
      count: 1,
      status: 500,
      body: { error: { message: "boom", type: "server_error" } },
    });
    const callId = await ring(t, { from: FROM_ALLOWED });
    const first = await waitForCall(
      t,
      callId,
      (c) => c.sip.webhookDeliveries.length >= 1,
      "the first delivery",
    );
    assert.equal(first.sip.webhookDeliveries[0].status, 502);
    // Refused accept: the session row was removed again (the retry comes 1 s later).
    assert.equal(first.state, "ringing");
    assert.deepEqual(await storedSessions(t), []);
    const call = await waitForCall(
      t,
      callId,
      (c) => c.state === "active" && c.sip.webhookDeliveries.length === 2,
      "the retried delivery to accept the call",
    );
    assert.deepEqual(
      call.sip.webhookDeliveries.map((d: EmulatorCall) => d.status),
      [502, 200],
    );
    const sessions = await storedSessions(t);
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0].callId, callId);
  } finally {
    await t.close();
  }
});

Deno.test({
  name: "a phone call is hung up at the maximum session length and charged to today's minutes",
}, async () => {
  const texts = ["This call goes on and on."];
  const wav = await makeUtterancesWav(texts, { padStartSec: 0.5, padEndSec: 6, gapSec: 1 });
  const t = await startTestApp({ env: sipEnv() });
  // MAX_SESSION_SECONDS has a floor of 10 s in the environment; the test shortens it in config.
  t.deps.config.limits.maxSessionSeconds = 2;
  try {
    t.emulator.control.queueTranscripts(texts);
    const callId = await ring(t, { from: FROM_ALLOWED, wavPath: wav.path });
    const session = await waitFor(() => t.store.getSessionByCallId(callId), {
      message: "the sip session to be stored",
    });
    const ended = await waitFor(async () => {
      const row = await t.store.getSession(session.id);
      return row?.status === "ended" ? row : null;
    }, { timeoutMs: 15_000, message: "the call to be ended by the server" });
    assert.equal(ended.endReason, "max_duration");
    const call = await waitForCall(
      t,
      callId,
      (c) => c.state === "ended",
      "the emulator to see the hang-up",
    );
    assert.match(String(call.endedReason ?? ""), /hangup/i);
    const used = await t.store.readCounter("usage-seconds:*", 86_400_000);
    assert.ok(used >= 2, `charged ${used} s to today's budget`);
  } finally {
    await t.close();
  }
});
