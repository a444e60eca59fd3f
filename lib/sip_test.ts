import assert from "node:assert/strict";
import {
  answerIncomingCall,
  callerFromSipHeaders,
  CallIncomingDataSchema,
  decideCall,
  invalidAllowListEntries,
  isCallerAllowed,
  maskCaller,
  normalizeE164,
  SIP_FALLBACK_TRANSCRIPTION_MODEL,
  sipAcceptSession,
} from "./sip.ts";
import { UpstreamError } from "./upstream.ts";
import type { Store } from "./store/types.ts";

const from = (value: string, name = "From") => [{ name, value }];

Deno.test("normalizeE164 keeps valid numbers and drops separators", () => {
  assert.equal(normalizeE164("+15555550100"), "+15555550100");
  assert.equal(normalizeE164(" +1 (555) 555-0100 "), "+15555550100");
  assert.equal(normalizeE164("+44.20.7946.0958"), "+442079460958");
  for (
    const bad of [
      "15555550100",
      "+0555",
      "+1",
      "+1234567890123456",
      "+1555abc",
      "",
      "+",
    ]
  ) {
    assert.equal(normalizeE164(bad), null, bad);
  }
});

Deno.test("callerFromSipHeaders reads the From header in its usual forms", () => {
  assert.equal(
    callerFromSipHeaders(from("sip:+15555550100@sip.example.com")),
    "+15555550100",
  );
  assert.equal(
    callerFromSipHeaders(
      from('"Ada" <sip:+15555550100@sip.example.com>;tag=abc'),
    ),
    "+15555550100",
  );
  assert.equal(
    callerFromSipHeaders(from("<tel:+15555550100>")),
    "+15555550100",
  );
  assert.equal(
    callerFromSipHeaders(from("sips:%2B15555550100@h;transport=tls")),
    "+15555550100",
  );
  assert.equal(
    callerFromSipHeaders(from("sip:+15555550100@h", "f")),
    "+15555550100",
  );
  assert.equal(
    callerFromSipHeaders(from("sip:+15555550100@h", "FROM")),
    "+15555550100",
  );
  // Anonymous, non-E.164, or no From header at all: unknown caller.
  assert.equal(
    callerFromSipHeaders(from("sip:anonymous@anonymous.invalid")),
    null,
  );
  assert.equal(callerFromSipHeaders(from("sip:5550100@pbx.local")), null);
  assert.equal(callerFromSipHeaders(from("mailto:+15555550100")), null);
  assert.equal(callerFromSipHeaders(from("sip:%E0%A4%A@h")), null);
  assert.equal(
    callerFromSipHeaders([{ name: "To", value: "sip:+18005551212@h" }]),
    null,
  );
  assert.equal(callerFromSipHeaders([]), null);
});

Deno.test("maskCaller hides all but the country digit and the last four", () => {
  assert.equal(maskCaller("+15555550100"), "+1******0100");
  assert.equal(maskCaller("+442079460958"), "+4*******0958");
  assert.equal(maskCaller("+123456"), "+****56");
  assert.equal(maskCaller(null), "anonymous");
  // Whatever the length, the middle digits never survive.
  assert.ok(!maskCaller("+15555550100").includes("555555"));
});

Deno.test("isCallerAllowed applies the allow-list", () => {
  assert.equal(isCallerAllowed("+15555550100", null), true);
  assert.equal(isCallerAllowed(null, null), true);
  const list = ["+1 555 555 0100", "+442079460958"];
  assert.equal(isCallerAllowed("+15555550100", list), true);
  assert.equal(isCallerAllowed("+442079460958", list), true);
  assert.equal(isCallerAllowed("+15555550199", list), false);
  assert.equal(isCallerAllowed(null, list), false);
  assert.equal(isCallerAllowed("+15555550100", []), false);
  assert.equal(isCallerAllowed(null, ["*"]), true);
  assert.deepEqual(
    invalidAllowListEntries(["+15555550100", "*", "5550100", "bob"]),
    [
      "5550100",
      "bob",
    ],
  );
});

Deno.test("decideCall: 603 when off or not allowed, 486 at a limit, else accept", () => {
  const sip = {
    enabled: true,
    webhookSecret: "s",
    allowedCallers: ["+15555550100"],
  };
  const caller = "+15555550100";
  assert.deepEqual(decideCall({ sip, caller, limitReached: null }), {
    action: "accept",
  });
  assert.deepEqual(
    decideCall({ sip: { ...sip, enabled: false }, caller, limitReached: null }),
    { action: "reject", statusCode: 603, reason: "sip_disabled" },
  );
  assert.deepEqual(
    decideCall({ sip, caller: "+15555550199", limitReached: null }),
    { action: "reject", statusCode: 603, reason: "caller_not_allowed" },
  );
  assert.deepEqual(
    decideCall({ sip, caller, limitReached: "concurrent_sessions" }),
    { action: "reject", statusCode: 486, reason: "concurrent_sessions" },
  );
  // Not being allowed wins over being busy: a stranger learns nothing about load.
  const stranger = decideCall({
    sip,
    caller: null,
    limitReached: "daily_minutes",
  });
  assert.equal(stranger.action === "reject" && stranger.statusCode, 603);
});

Deno.test("sipAcceptSession is a silent realtime session within the SIP constraints", () => {
  const session = sipAcceptSession({
    defaultModel: "gpt-transcribe",
    privatePrompt: "Hono, Deno",
  });
  assert.equal(session.type, "realtime");
  assert.equal(typeof session.model, "string");
  assert.deepEqual(session.output_modalities, ["text"]);
  assert.equal(session.max_output_tokens, 1);
  assert.ok(session.instructions && session.instructions.length > 0);
  assert.deepEqual(session.audio?.input?.transcription, {
    model: "gpt-transcribe",
    prompt: "Hono, Deno",
  });
  assert.deepEqual(session.audio?.input?.turn_detection, {
    type: "server_vad",
    create_response: false,
    interrupt_response: false,
  });
  assert.deepEqual(session.include, [
    "item.input_audio_transcription.logprobs",
  ]);
  // A model that needs the page to commit turns is replaced; one without prompt/logprobs gets none.
  const whisper = sipAcceptSession({
    defaultModel: "gpt-realtime-whisper",
    privatePrompt: "x",
  });
  assert.equal(
    whisper.audio?.input?.transcription?.model,
    SIP_FALLBACK_TRANSCRIPTION_MODEL,
  );
  // gpt-live-transcribe takes no turn detection either (2026-12), so a call cannot use it.
  const live = sipAcceptSession({ defaultModel: "gpt-live-transcribe", privatePrompt: null });
  assert.equal(live.audio?.input?.transcription?.model, SIP_FALLBACK_TRANSCRIPTION_MODEL);
  const w1 = sipAcceptSession({
    defaultModel: "whisper-1",
    privatePrompt: null,
  });
  assert.deepEqual(w1.audio?.input?.transcription, { model: "whisper-1" });
  assert.equal(w1.include, undefined);
});

Deno.test("CallIncomingDataSchema validates the call id shape", () => {
  assert.equal(
    CallIncomingDataSchema.safeParse({ call_id: "rtc_abc_123" }).success,
    true,
  );
  for (const call_id of ["rtc_../x", "abc", "rtc_", "rtc_a?b=c", 7]) {
    assert.equal(
      CallIncomingDataSchema.safeParse({ call_id }).success,
      false,
      String(call_id),
    );
  }
});

// answerIncomingCall against real parts: the emulator's REST API and a :memory: SQLite store.
async function callFixture(env: Record<string, string> = {}) {
  const { startEmulator } = await import("../emulator/mod.ts");
  const { loadConfig } = await import("./config.ts");
  const { openStore } = await import("./store/mod.ts");
  const { createUpstream } = await import("./upstream.ts");
  const emulator = await startEmulator({ webhookRetryDelaysMs: [] });
  const config = await loadConfig({
    OPENAI_API_KEY: emulator.apiKey,
    OPENAI_BASE_URL: emulator.baseUrl,
    SIP_ENABLED: "true",
    OPENAI_WEBHOOK_SECRET: "whsec_AAAA",
    ...env,
  }, { platform: "local" });
  const store = await openStore(config, { url: ":memory:" });
  const upstream = createUpstream({
    baseUrl: emulator.baseUrl,
    apiKey: emulator.apiKey,
  });
  const started: string[] = [];
  const ring = async () => {
    const res = await fetch(`${emulator.baseUrl}/_emulator/sip/incoming`, {
      method: "POST",
      body: JSON.stringify({
        from: "sip:+15555550100@sip.example.com",
        webhookUrl: "http://127.0.0.1:1/nowhere",
        secret: "whsec_AAAA",
      }),
    });
    return (await res.json()).callId as string;
  };
  const data = (callId: string) =>
    CallIncomingDataSchema.parse({
      call_id: callId,
      sip_headers: [{
        name: "From",
        value: "sip:+15555550100@sip.example.com",
      }],
    });
  const options = {
    config,
    store,
    upstream,
    startSideband: (sessionId: string) => void started.push(sessionId),
  };
  const state = (callId: string) =>
    (emulator.control.calls().find((c) => c.id === callId) as { state: string })
      .state;
  return {
    emulator,
    store,
    options,
    started,
    ring,
    data,
    state,
    close: async () => {
      await store.close();
      await emulator.close();
    },
  };
}

Deno.test("answerIncomingCall accepts a call exactly once under concurrent deliveries", async () => {
  const f = await callFixture();
  try {
    const callId = await f.ring();
    const results = await Promise.all(
      Array.from(
        { length: 5 },
        () => answerIncomingCall(f.options, f.data(callId)),
      ),
    );
    const accepted = results.filter((r) => r.action === "accepted");
    assert.equal(accepted.length, 1);
    assert.equal(results.filter((r) => r.action === "duplicate").length, 4);
    assert.equal(f.state(callId), "active");
    const { sessions } = await f.store.listSessions({ limit: 10 });
    assert.equal(sessions.length, 1);
    assert.deepEqual(
      [
        sessions[0].source,
        sessions[0].callId,
        sessions[0].caller,
        sessions[0].status,
      ],
      ["sip", callId, "+1******0100", "pending"],
    );
    assert.deepEqual(f.started, [sessions[0].id]);
  } finally {
    await f.close();
  }
});

Deno.test("answerIncomingCall undoes everything when OpenAI refuses, so a retry works", async () => {
  const f = await callFixture();
  try {
    const callId = await f.ring();
    f.emulator.control.failRest({ endpoint: "accept", count: 1, status: 503 });
    await assert.rejects(
      () => answerIncomingCall(f.options, f.data(callId)),
      UpstreamError,
    );
    assert.equal(f.state(callId), "ringing");
    assert.equal(
      (await f.store.listSessions({ limit: 10 })).sessions.length,
      0,
    );
    assert.deepEqual(f.started, []);
    const retry = await answerIncomingCall(f.options, f.data(callId));
    assert.equal(retry.action, "accepted");
    assert.equal(f.state(callId), "active");
  } finally {
    await f.close();
  }
});

Deno.test("answerIncomingCall rejects with 486 once the daily minutes are used", async () => {
  const f = await callFixture({ DAILY_MINUTES: "1" });
  try {
    await f.store.incrementCounter("usage-seconds:*", 86_400_000, 60);
    const callId = await f.ring();
    const result = await answerIncomingCall(f.options, f.data(callId));
    assert.deepEqual(result, {
      action: "rejected",
      statusCode: 486,
      reason: "daily_minutes",
      caller: "+1******0100",
    });
    assert.equal(f.state(callId), "ended");
    assert.equal(
      (await f.store.listSessions({ limit: 10 })).sessions.length,
      0,
    );
  } finally {
    await f.close();
  }
});

Deno.test("answerIncomingCall gives its claim back when storing the session fails, so a retry answers", async () => {
  const f = await callFixture();
  try {
    const callId = await f.ring();
    let failures = 1;
    const store: Store = Object.create(f.store);
    store.createSession = (input) =>
      failures-- > 0 ? Promise.reject(new Error("disk full")) : f.store.createSession(input);
    const options = { ...f.options, store };
    await assert.rejects(() => answerIncomingCall(options, f.data(callId)), /disk full/);
    assert.equal(f.state(callId), "ringing");
    assert.deepEqual(f.started, []);
    const retry = await answerIncomingCall(options, f.data(callId));
    assert.equal(retry.action, "accepted");
    assert.equal(f.state(callId), "active");
    assert.equal((await f.store.listSessions({ limit: 10 })).sessions.length, 1);
  } finally {
    await f.close();
  }
});
