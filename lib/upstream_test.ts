import assert from "node:assert/strict";
import { startEmulator } from "../emulator/mod.ts";
import { callIdFromLocation, createUpstream, redactSecrets, UpstreamError } from "./upstream.ts";
import { buildTranscriptionSession, resolveSessionOptions } from "./session_config.ts";
import { createTestPeer } from "../testing/server.ts";

const session = buildTranscriptionSession(
  resolveSessionOptions({}, { defaultModel: "gpt-transcribe" }),
);

async function failure(p: Promise<unknown>): Promise<UpstreamError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof UpstreamError, String(err));
    return err;
  }
  assert.fail("expected an UpstreamError");
}

Deno.test("createClientSecret() mints an ek_ key with the requested lifetime", async () => {
  const emu = await startEmulator();
  try {
    const up = createUpstream({ baseUrl: emu.baseUrl, apiKey: emu.apiKey });
    const before = Math.floor(Date.now() / 1000);
    const secret = await up.createClientSecret(session, { ttlSeconds: 30 });
    assert.match(secret.value, /^ek_/);
    assert.ok(
      secret.expiresAt >= before + 29 && secret.expiresAt <= before + 31,
    );
    assert.equal(secret.session.type, "transcription");
  } finally {
    await emu.close();
  }
});

Deno.test("upstream failures map to 429 / 502 / 503 with the upstream status and message", async () => {
  const emu = await startEmulator();
  try {
    const up = createUpstream({ baseUrl: emu.baseUrl, apiKey: emu.apiKey });
    const mint = () => up.createClientSecret(session, { ttlSeconds: 30 });

    emu.control.failRest({
      endpoint: "client_secrets",
      status: 429,
      count: 1,
      body: {
        error: {
          message: "Rate limit reached",
          type: "requests",
          param: null,
          code: null,
        },
      },
    });
    let e = await failure(mint());
    assert.equal(e.status, 429);
    assert.equal(e.upstreamStatus, 429);
    assert.match(e.message, /Rate limit reached/);
    assert.ok(Number(e.retryAfter) > 0);

    emu.control.failRest({
      endpoint: "client_secrets",
      status: 500,
      count: 1,
      body: {
        error: {
          message: "Injected failure",
          type: "server_error",
          param: null,
          code: null,
        },
      },
    });
    e = await failure(mint());
    assert.deepEqual([e.status, e.code, e.upstreamStatus], [
      502,
      "upstream_error",
      500,
    ]);
    assert.match(e.message, /Injected failure/);

    emu.control.failRest({
      endpoint: "client_secrets",
      status: 400,
      count: 1,
      body: "openai_empty_400",
    });
    e = await failure(mint());
    assert.deepEqual([e.status, e.code, e.upstreamStatus], [
      502,
      "upstream_rejected",
      400,
    ]);
    assert.match(e.message, /no reason given/);

    const wrongKey = createUpstream({
      baseUrl: emu.baseUrl,
      apiKey: "sk-wrong-key-12345678",
    });
    e = await failure(wrongKey.createClientSecret(session, { ttlSeconds: 30 }));
    assert.deepEqual([e.status, e.code, e.upstreamStatus], [
      502,
      "server_key_rejected",
      401,
    ]);
    assert.doesNotMatch(e.message, /sk-wrong-key-12345678/);

    // The emulator works again once the queued faults are used up.
    assert.match((await mint()).value, /^ek_/);
  } finally {
    await emu.close();
  }
});

Deno.test("network failures and a missing key are 503s", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const up = createUpstream({
    baseUrl: `http://127.0.0.1:${port}`,
    apiKey: "sk-x",
  });
  const e = await failure(up.createClientSecret(session, { ttlSeconds: 30 }));
  assert.deepEqual([e.status, e.code, e.upstreamStatus], [
    503,
    "upstream_unreachable",
    null,
  ]);
  const noKey = createUpstream({
    baseUrl: `http://127.0.0.1:${port}`,
    apiKey: null,
  });
  assert.equal(
    (await failure(noKey.hangup("rtc_abc"))).code,
    "missing_api_key",
  );
});

Deno.test("each upstream error carries and logs OpenAI's x-request-id, never the key", async () => {
  const emu = await startEmulator();
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  try {
    const key = "sk-wrong-key-12345678";
    const up = createUpstream({
      baseUrl: emu.baseUrl,
      apiKey: key,
      log: (level, message, fields) => lines.push({ level, message, fields }),
    });
    const e = await failure(up.createClientSecret(session, { ttlSeconds: 30 }));
    assert.match(e.requestId ?? "", /^req_[0-9a-f]{32}$/);
    assert.equal(lines.length, 1);
    assert.equal(lines[0].level, "warn");
    assert.equal(lines[0].fields.requestId, e.requestId);
    assert.equal(lines[0].fields.upstreamStatus, 401);
    assert.doesNotMatch(JSON.stringify(lines), new RegExp(key));
    // A success logs nothing.
    const ok = createUpstream({
      baseUrl: emu.baseUrl,
      apiKey: emu.apiKey,
      log: (level, message, fields) => lines.push({ level, message, fields }),
    });
    await ok.createClientSecret(session, { ttlSeconds: 30 });
    assert.equal(lines.length, 1);
  } finally {
    await emu.close();
  }
});

Deno.test("callIdFromLocation() and redactSecrets()", () => {
  assert.equal(
    callIdFromLocation("/v1/realtime/calls/rtc_u1_9c65"),
    "rtc_u1_9c65",
  );
  assert.equal(
    callIdFromLocation("https://api.openai.com/v1/realtime/calls/rtc_x?y=1"),
    "rtc_x",
  );
  assert.equal(callIdFromLocation("/v1/realtime/calls/rtc_../../x"), null);
  assert.equal(callIdFromLocation(null), null);
  assert.equal(
    redactSecrets(
      "Incorrect API key provided: sk-proj-abc123***xyz and ek_1234567890",
    ),
    "Incorrect API key provided: [redacted] and [redacted]",
  );
});

Deno.test("a refusal keeps OpenAI's type, param and own message (redacted), and logs them with the request id", async () => {
  const emu = await startEmulator({ refuseOptions: { "gpt-transcribe": ["turn_detection"] } });
  try {
    const lines: Record<string, unknown>[] = [];
    const up = createUpstream({
      baseUrl: emu.baseUrl,
      apiKey: emu.apiKey,
      log: (_level, _message, fields) => lines.push(fields),
    });
    const e = await failure(up.createClientSecret(session, { ttlSeconds: 30 }));
    assert.equal(e.upstreamStatus, 400);
    assert.equal(e.upstreamType, "invalid_request_error");
    assert.equal(e.param, "session.audio.input.turn_detection");
    assert.equal(
      e.upstreamMessage,
      "Turn detection is not supported for this transcription model.",
    );
    assert.match(e.requestId ?? "", /^req_[0-9a-f]{32}$/);
    assert.equal(e.requestId, emu.control.requests("/v1/realtime/client_secrets")[0].requestId);
    assert.deepEqual([lines.length, lines[0].requestId, lines[0].param], [
      1,
      e.requestId,
      e.param,
    ]);

    emu.control.failRest({
      endpoint: "client_secrets",
      status: 400,
      body: {
        error: { message: "Bad key sk-abcdef123456 here", type: "invalid_request_error", param: 7 },
      },
    });
    const f = await failure(up.createClientSecret(session, { ttlSeconds: 30 }));
    assert.equal(f.upstreamMessage, "Bad key [redacted] here");
    assert.equal(f.param, null);
  } finally {
    await emu.close();
  }
});

// Last in the file: werift keeps timers past close(), and they must not fire inside a later test
// that checks for leaks.
Deno.test({
  name: "createCall() relays the SDP as multipart and reads the call id; hangup() is idempotent",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const emu = await startEmulator();
    const peer = await createTestPeer();
    try {
      const up = createUpstream({ baseUrl: emu.baseUrl, apiKey: emu.apiKey });
      const call = await up.createCall({ sdp: peer.offer, session });
      assert.match(call.callId, /^rtc_/);
      assert.match(call.sdp, /^v=0/);
      const calls = emu.control.calls();
      assert.equal(calls.length, 1);
      assert.equal(calls[0].id, call.callId);
      assert.equal(await up.hangup(call.callId), true);
      assert.equal(
        await up.hangup(call.callId),
        false,
        "second hang-up: already ended (404)",
      );
      emu.control.failRest({
        endpoint: "calls",
        status: 400,
        count: 1,
        body: "openai_empty_400",
      });
      const e = await failure(up.createCall({ sdp: peer.offer, session }));
      assert.equal(e.upstreamStatus, 400);
    } finally {
      await peer.close();
      await emu.close();
    }
  },
});
