/**
 * `POST /webhooks/openai` over real HTTP: every refused delivery (forged, stale, future,
 * malformed) changes nothing, replays and duplicates are acknowledged without a second accept,
 * and simultaneous deliveries accept a call once. The emulator rings the call and its own
 * signer (independent of `lib/webhook_signature.ts`) signs the deliveries; a local sink captures
 * the genuine one so the test controls what reaches the app.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startTestApp, type TestApp } from "../testing/server.ts";
import {
  ALLOWED,
  emulatorCall,
  ringToSink,
  SIP_SECRET,
  sipEnv,
  startSink,
  storedSessions,
} from "../testing/sip_kit.ts";
import { webhookHeaders } from "../emulator/webhook_sender.ts";

async function postWebhook(t: TestApp, headers: Headers, body: string) {
  const res = await fetch(`${t.baseUrl}/webhooks/openai`, {
    method: "POST",
    headers,
    body,
  });
  return { status: res.status, body: await res.json() };
}

Deno.test("forged, stale, future and malformed deliveries are refused and accept nothing", async () => {
  const sink = startSink();
  const t = await startTestApp({ env: sipEnv() });
  try {
    const { callId, genuine } = await ringToSink(t, sink);
    const id = genuine.headers.get("webhook-id")!;
    const body = genuine.body;
    const now = Date.now();
    const withHeader = (name: string, value: string | null) => {
      const h = new Headers(genuine.headers);
      if (value === null) h.delete(name);
      else h.set(name, value);
      return h;
    };
    const otherSecret = `whsec_${new Uint8Array(32).fill(9).toBase64()}`;
    const tampered = body.replace(ALLOWED, "+15555550177");
    assert.notEqual(tampered, body);
    const notJson = "not json at all";
    const badCallId = JSON.stringify({
      ...JSON.parse(body),
      data: { call_id: "../../v1/models", sip_headers: [] },
    });

    const cases: [string, Headers, string, number, string][] = [
      ["tampered body", genuine.headers, tampered, 401, "invalid_signature"],
      [
        "other secret",
        await webhookHeaders(otherSecret, body, id, now),
        body,
        401,
        "invalid_signature",
      ],
      [
        "stale",
        await webhookHeaders(SIP_SECRET, body, id, now - 301_000),
        body,
        401,
        "timestamp_too_old",
      ],
      [
        "future",
        // A minute past the 300 s tolerance: `now` was taken before the earlier cases ran, and a
        // delivery only 1 s ahead would become acceptable once a second boundary passes.
        await webhookHeaders(SIP_SECRET, body, id, now + 360_000),
        body,
        401,
        "timestamp_too_new",
      ],
      [
        "no signature",
        withHeader("webhook-signature", null),
        body,
        400,
        "missing_headers",
      ],
      ["no id", withHeader("webhook-id", null), body, 400, "missing_headers"],
      [
        "bad timestamp",
        withHeader("webhook-timestamp", "yesterday"),
        body,
        400,
        "malformed_timestamp",
      ],
      [
        "undecodable signature",
        withHeader("webhook-signature", "v1,%%%"),
        body,
        400,
        "malformed_signature",
      ],
      [
        "signed non-JSON",
        await webhookHeaders(SIP_SECRET, notJson, "wh_x1", now),
        notJson,
        400,
        "invalid_json",
      ],
      [
        "signed bad call id",
        await webhookHeaders(SIP_SECRET, badCallId, "wh_x2", now),
        badCallId,
        400,
        "invalid_event",
      ],
    ];
    for (const [name, headers, payload, status, code] of cases) {
      const res = await postWebhook(t, headers, payload);
      assert.equal(res.status, status, `${name}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, code, name);
      assert.equal(typeof res.body.error.message, "string");
    }
    const huge = body.replace(
      '"data":',
      `"padding":"${"x".repeat(70_000)}","data":`,
    );
    const oversized = await postWebhook(t, genuine.headers, huge);
    assert.equal(oversized.status, 413);
    assert.equal(
      (await emulatorCall(t, callId)).state,
      "ringing",
      "a refused delivery answered the call",
    );
    assert.deepEqual(await storedSessions(t), []);

    // The genuine delivery (relayed as received) is accepted once.
    const first = await postWebhook(t, genuine.headers, body);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.action, "accepted");
    assert.equal((await emulatorCall(t, callId)).state, "active");

    // A replay of the same delivery, and a fresh delivery for the same call, change nothing. (A
    // second /accept would fail in the emulator — the call is no longer ringing — and surface as 502.)
    const replay = await postWebhook(t, genuine.headers, body);
    assert.deepEqual([replay.status, replay.body.duplicate], [200, true]);
    const again = await postWebhook(
      t,
      await webhookHeaders(SIP_SECRET, body, "wh_again", Date.now()),
      body,
    );
    assert.deepEqual([again.status, again.body.duplicate], [200, true]);
    const sessions = await storedSessions(t);
    assert.deepEqual(sessions.map((s) => s.id), [first.body.sessionId]);
  } finally {
    await t.close();
    await sink.close();
  }
});

Deno.test("simultaneous deliveries for one call accept it exactly once", async () => {
  const sink = startSink();
  const t = await startTestApp({ env: sipEnv() });
  try {
    const { callId, genuine: { body } } = await ringToSink(t, sink);
    const results = await Promise.all(
      ["wh_race_1", "wh_race_2", "wh_race_3"].map(async (id) =>
        postWebhook(t, await webhookHeaders(SIP_SECRET, body, id, Date.now()), body)
      ),
    );
    assert.deepEqual(results.map((r) => r.status), [200, 200, 200]);
    assert.equal(results.filter((r) => r.body.action === "accepted").length, 1);
    assert.equal(results.filter((r) => r.body.duplicate === true).length, 2);
    assert.equal((await emulatorCall(t, callId)).state, "active");
    assert.equal((await storedSessions(t)).length, 1);
  } finally {
    await t.close();
    await sink.close();
  }
});

Deno.test("without OPENAI_WEBHOOK_SECRET the endpoint answers 503 and does nothing", async () => {
  const t = await startTestApp({ env: { SIP_ENABLED: "true" } });
  try {
    const body = JSON.stringify({
      id: "evt_1",
      type: "realtime.call.incoming",
      data: {},
    });
    const res = await postWebhook(
      t,
      await webhookHeaders(SIP_SECRET, body, "wh_1", Date.now()),
      body,
    );
    assert.equal(res.status, 503);
    assert.equal(res.body.error.code, "webhook_not_configured");
    assert.ok(!JSON.stringify(res.body).includes("whsec_"));
  } finally {
    await t.close();
  }
});

Deno.test("other signed event types are acknowledged and ignored; nothing is stored or answered", async () => {
  const t = await startTestApp({ env: sipEnv() });
  try {
    const body = JSON.stringify({
      object: "event",
      id: "evt_other_1",
      type: "batch.completed",
      created_at: Math.floor(Date.now() / 1000),
      data: { id: "batch_1" },
    });
    const headers = await webhookHeaders(SIP_SECRET, body, "wh_other_1", Date.now());
    const first = await postWebhook(t, headers, body);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(first.body, { received: true, ignored: "batch.completed" });
    const replay = await postWebhook(t, headers, body);
    assert.deepEqual([replay.status, replay.body.duplicate], [200, true]);
    assert.deepEqual(await storedSessions(t), []);
    assert.equal(t.emulator.control.calls().length, 0);
  } finally {
    await t.close();
  }
});
