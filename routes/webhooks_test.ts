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
import { startTestApp, type TestApp, waitFor } from "../testing/server.ts";
import { webhookHeaders } from "../emulator/webhook_sender.ts";

const SECRET = `whsec_${new Uint8Array(32).map((_, i) => 200 - i).toBase64()}`;
const ALLOWED = "+15555550100";
const FROM_ALLOWED = `"Ada" <sip:${ALLOWED}@sip.example.com>;tag=1`;

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

async function listSessions(t: TestApp): Promise<Json[]> {
  return (await t.store.listSessions({ limit: 100 })).sessions;
}

/** A local endpoint that records the webhook deliveries the emulator sends it. */
function startSink() {
  const deliveries: { headers: Headers; body: string }[] = [];
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: (a) => resolve(a as Deno.NetAddr),
  }, async (req) => {
    deliveries.push({ headers: req.headers, body: await req.text() });
    return new Response("ok");
  });
  return {
    deliveries,
    url: listening.then((a) => `http://127.0.0.1:${a.port}/hook`),
    close: () => server.shutdown(),
  };
}

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
    const callId = await ring(t, {
      from: FROM_ALLOWED,
      webhookUrl: await sink.url,
    });
    const genuine = await waitFor(() => sink.deliveries[0], {
      message: "the signed delivery",
    });
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
        await webhookHeaders(SECRET, body, id, now - 301_000),
        body,
        401,
        "timestamp_too_old",
      ],
      [
        "future",
        await webhookHeaders(SECRET, body, id, now + 301_000),
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
        await webhookHeaders(SECRET, notJson, "wh_x1", now),
        notJson,
        400,
        "invalid_json",
      ],
      [
        "signed bad call id",
        await webhookHeaders(SECRET, badCallId, "wh_x2", now),
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
    assert.deepEqual(await listSessions(t), []);

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
      await webhookHeaders(SECRET, body, "wh_again", Date.now()),
      body,
    );
    assert.deepEqual([again.status, again.body.duplicate], [200, true]);
    const sessions = await listSessions(t);
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
    const callId = await ring(t, {
      from: FROM_ALLOWED,
      webhookUrl: await sink.url,
    });
    const { body } = await waitFor(() => sink.deliveries[0], {
      message: "the signed delivery",
    });
    const results = await Promise.all(
      ["wh_race_1", "wh_race_2", "wh_race_3"].map(async (id) =>
        postWebhook(t, await webhookHeaders(SECRET, body, id, Date.now()), body)
      ),
    );
    assert.deepEqual(results.map((r) => r.status), [200, 200, 200]);
    assert.equal(results.filter((r) => r.body.action === "accepted").length, 1);
    assert.equal(results.filter((r) => r.body.duplicate === true).length, 2);
    assert.equal((await emulatorCall(t, callId)).state, "active");
    assert.equal((await listSessions(t)).length, 1);
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
      await webhookHeaders(SECRET, body, "wh_1", Date.now()),
      body,
    );
    assert.equal(res.status, 503);
    assert.equal(res.body.error.code, "webhook_not_configured");
    assert.ok(!JSON.stringify(res.body).includes("whsec_"));
  } finally {
    await t.close();
  }
});
