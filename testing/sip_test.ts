/**
 * Phone calls end to end: the app on loopback, the emulator's simulated SIP call (signed
 * `realtime.call.incoming` webhook, caller audio played after `/accept`), the real sideband and a
 * real SQLite store. Signatures here come from the emulator's own signer, written independently
 * of `lib/webhook_signature.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startTestApp, type TestApp, waitFor } from "./server.ts";
import { makeUtterancesWav } from "./speech.ts";

const SECRET = `whsec_${new Uint8Array(32).map((_, i) => 200 - i).toBase64()}`;
const ALLOWED = "+15555550100";
const FROM_ALLOWED = `"Ada" <sip:${ALLOWED}@sip.example.com>;tag=1`;
const FROM_STRANGER = "sip:+15555550199@sip.example.com";

function sipEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    SIP_ENABLED: "true",
    OPENAI_WEBHOOK_SECRET: SECRET,
    SIP_ALLOWED_CALLERS: `${ALLOWED}, +442079460958`,
    ...extra,
  };
}

// deno-lint-ignore no-explicit-any
type Json = any;

/** Makes the emulator ring the app (or `webhookUrl`); returns the call id. */
async function ring(
  t: TestApp,
  opts: { from: string; wavPath?: string; webhookUrl?: string },
): Promise<string> {
  const res = await fetch(`${t.emulator.baseUrl}/_emulator/sip/incoming`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      from: opts.from,
      to: "sip:+18005551212@sip.example.com",
      webhookUrl: opts.webhookUrl ?? `${t.baseUrl}/webhooks/openai`,
      secret: SECRET,
      ...(opts.wavPath ? { wavPath: opts.wavPath } : {}),
    }),
  });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  return body.callId;
}

async function emulatorCall(t: TestApp, callId: string): Promise<Json> {
  const res = await fetch(`${t.emulator.baseUrl}/_emulator/calls/${callId}`);
  assert.equal(res.status, 200);
  return await res.json();
}

/** Waits until the emulator's view of the call satisfies `ok`; returns that view. */
function waitForCall(
  t: TestApp,
  callId: string,
  ok: (call: Json) => boolean,
  message: string,
): Promise<Json> {
  return waitFor(async () => {
    const call = await emulatorCall(t, callId);
    return ok(call) ? call : null;
  }, { message });
}

async function listSessions(t: TestApp): Promise<Json[]> {
  return (await t.store.listSessions({ limit: 100 })).sessions;
}

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
    assert.deepEqual(call.sip.webhookDeliveries.map((d: Json) => d.status), [
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
    assert.deepEqual(await listSessions(t), []);
  } finally {
    await t.close();
  }
});

Deno.test("callers not on the allow-list get 603 and a full line gets 486", async () => {
  const t = await startTestApp({
    env: sipEnv({ MAX_CONCURRENT_SESSIONS: "1" }),
  });
  try {
    const stranger = await ring(t, { from: FROM_STRANGER });
    const declined = await waitForCall(
      t,
      stranger,
      (c) => c.state === "ended",
      "the stranger's call to be rejected",
    );
    assert.equal(declined.sip.rejectStatus, 603);
    assert.deepEqual(await listSessions(t), []);

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
    assert.deepEqual((await listSessions(t)).map((s) => s.id), [busy.id]);
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
    assert.deepEqual(await listSessions(t), []);
    const call = await waitForCall(
      t,
      callId,
      (c) => c.state === "active" && c.sip.webhookDeliveries.length === 2,
      "the retried delivery to accept the call",
    );
    assert.deepEqual(
      call.sip.webhookDeliveries.map((d: Json) => d.status),
      [502, 200],
    );
    const sessions = await listSessions(t);
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0].callId, callId);
  } finally {
    await t.close();
  }
});
