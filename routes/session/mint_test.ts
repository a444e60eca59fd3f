import assert from "node:assert/strict";
import { countSessions, postJson, startTestApp } from "../../testing/server.ts";
import { verifyTicket } from "../../lib/ticket.ts";

Deno.test("POST /api/session mints a key, records a pending session and signs a ticket", async () => {
  const t = await startTestApp({
    env: { TRANSCRIPTION_PROMPT: "Vocabulary: Zorblax" },
  });
  try {
    const r = await postJson(t.baseUrl, "/api/session", {
      language: "en",
      logprobs: true,
    });
    assert.equal(r.status, 200);
    assert.match(r.json.ephemeralKey, /^ek_/);
    assert.equal(r.json.realtimeUrl, `${t.emulator.baseUrl}/v1/realtime/calls`);
    // The default model takes no turn detection: the page commits its turns.
    assert.equal(r.json.clientCommits, true);
    assert.equal(r.json.model, "gpt-live-transcribe");
    assert.ok(r.json.expiresAt > Date.now() / 1000);
    assert.equal(r.headers.get("cache-control"), "no-store");
    const claims = await verifyTicket(r.json.ticket, {
      secret: t.deps.config.signingSecret,
    });
    assert.equal(claims?.sessionId, r.json.sessionId);
    const row = await t.store.getSession(r.json.sessionId);
    assert.equal(row?.status, "pending");
    assert.equal(row?.model, "gpt-live-transcribe");
    assert.equal((row?.settings as { language: string }).language, "en");
    // The key's session has the user's settings and NOT the private prompt.
    const secret = t.emulator.control.state as unknown as {
      secrets: Map<string, { session: unknown }>;
    };
    const bound = JSON.stringify([...secret.secrets.values()]);
    assert.match(bound, /"model":"gpt-live-transcribe"/);
    assert.match(bound, /"turn_detection":null/);
    assert.doesNotMatch(bound, /Zorblax/);
    assert.doesNotMatch(JSON.stringify(r.json), /Zorblax|sk-emulator/);
  } finally {
    await t.close();
  }
});

Deno.test("POST /api/session tells the page to commit turns for gpt-realtime-whisper", async () => {
  const t = await startTestApp();
  try {
    const r = await postJson(t.baseUrl, "/api/session", {
      model: "gpt-realtime-whisper",
      delay: "low",
    });
    assert.equal(r.status, 200);
    assert.equal(r.json.clientCommits, true);
  } finally {
    await t.close();
  }
});

Deno.test("POST /api/session rejects bad input with a 400 naming the field and changes nothing", async () => {
  const t = await startTestApp();
  try {
    const cases: Array<[unknown, string]> = [
      [{ model: "gpt-9" }, "model"],
      [
        {
          model: "gpt-realtime-whisper",
          turnDetection: { type: "server_vad" },
        },
        "turnDetection",
      ],
      [
        {
          model: "gpt-live-transcribe",
          turnDetection: { type: "semantic_vad" },
        },
        "turnDetection",
      ],
      [{ model: "gpt-4o-transcribe", keywords: ["x"] }, "keywords"],
      [
        { turnDetection: { type: "semantic_vad", eagerness: "sometimes" } },
        "turnDetection.eagerness",
      ],
      [{ extra: true }, "extra"],
      [[1, 2], "body"],
    ];
    for (const [body, field] of cases) {
      const r = await postJson(t.baseUrl, "/api/session", body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.error.code, "invalid_option");
      assert.equal(r.json.error.field, field);
    }
    const bad = await postJson(t.baseUrl, "/api/session", "{not json");
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, "invalid_json");
    assert.equal(await countSessions(t.store), 0);
  } finally {
    await t.close();
  }
});

Deno.test("POST /api/session maps upstream failures (429, 500, empty 400, 401) and records nothing", async () => {
  const t = await startTestApp();
  try {
    const fail = (status: number, body?: unknown) =>
      t.emulator.control.failRest({
        endpoint: "client_secrets",
        status,
        // One transient 429/5xx is retried (lib/retry.ts); two make it persistent.
        count: status === 429 || status >= 500 ? 2 : 1,
        body,
      });
    fail(429, {
      error: {
        message: "Slow down",
        type: "requests",
        code: "rate_limit_exceeded",
        param: null,
      },
    });
    let r = await postJson(t.baseUrl, "/api/session", {});
    assert.equal(r.status, 429);
    assert.equal(r.json.error.upstreamStatus, 429);
    assert.match(r.json.error.message, /Slow down/);
    assert.ok(Number(r.headers.get("retry-after")) > 0);

    fail(500);
    r = await postJson(t.baseUrl, "/api/session", {});
    assert.deepEqual(
      [r.status, r.json.error.code, r.json.error.upstreamStatus],
      [502, "upstream_error", 500],
    );

    fail(400, "openai_empty_400");
    r = await postJson(t.baseUrl, "/api/session", {});
    assert.deepEqual([r.status, r.json.error.upstreamStatus], [502, 400]);
    assert.match(r.json.error.message, /no reason given/);

    fail(401, {
      error: {
        message: "Incorrect API key provided: sk-emu***cal",
        type: "invalid_request_error",
        code: "invalid_api_key",
        param: null,
      },
    });
    r = await postJson(t.baseUrl, "/api/session", {});
    assert.deepEqual([r.status, r.json.error.code], [
      502,
      "server_key_rejected",
    ]);
    assert.doesNotMatch(JSON.stringify(r.json), /sk-emu/);

    assert.equal(await countSessions(t.store), 0);
    const logs = JSON.stringify(t.logs);
    assert.doesNotMatch(logs, new RegExp(t.emulator.apiKey));
  } finally {
    await t.close();
  }
});

Deno.test("POST /api/session without a key answers 503 missing_api_key", async () => {
  const t = await startTestApp({ noKey: true });
  try {
    const r = await postJson(t.baseUrl, "/api/session", {});
    assert.equal(r.status, 503);
    assert.equal(r.json.error.code, "missing_api_key");
    assert.match(r.json.error.message, /OPENAI_API_KEY/);
    assert.equal(await countSessions(t.store), 0);
  } finally {
    await t.close();
  }
});
