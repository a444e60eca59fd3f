/**
 * Self-healing sessions through the real app and emulator: the emulator's `refuseOptions` switch
 * makes a model refuse an option the catalog allows, and `POST /api/session` must mint on its one
 * retry without it, name the dropped option, keep the learned rule in the Store, and mint the next
 * session in one attempt. Mints are counted with the emulator's request log (`/_emulator/requests`).
 */
import assert from "node:assert/strict";
import { postJson, startTestApp, type TestApp } from "../../testing/server.ts";
import type { RefusableOption } from "../../emulator/model_overrides.ts";
import type { RequestRecord } from "../../emulator/state.ts";
import type { SessionSettings } from "../../lib/session_config.ts";

const MINT_PATH = "/v1/realtime/client_secrets";

/** The emulator's answers to client_secrets, through its HTTP control API. */
async function mints(t: TestApp): Promise<RequestRecord[]> {
  const res = await fetch(
    `${t.emulator.baseUrl}/_emulator/requests?path=${encodeURIComponent(MINT_PATH)}`,
  );
  return (await res.json()).requests;
}

/** Tells the emulator (over its control API) which options `model` refuses. */
async function refuse(t: TestApp, model: string, options: RefusableOption[]): Promise<void> {
  const res = await fetch(`${t.emulator.baseUrl}/_emulator/models`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refuse: { [model]: options } }),
  });
  assert.equal(res.status, 200, await res.text());
}

/** The emulator's session bound to a minted key. */
function boundSession(t: TestApp, key: string): Record<string, unknown> {
  const secrets = t.emulator.control.state.secrets;
  return secrets.get(key)!.session as unknown as Record<string, unknown>;
}

interface OptionCase {
  /** What the emulator is told to refuse. */
  refused: RefusableOption;
  /** Our option name, as the answer's `adjustments[].option` and the learned rule say. */
  option: string;
  model: string;
  body: Record<string, unknown>;
  /** The settings after the option was dropped. */
  dropped: (s: SessionSettings) => boolean;
  /** True when the emulator's bound session still has the option (it must not). */
  inSession: (session: string) => boolean;
}

const CASES: OptionCase[] = [
  {
    refused: "turn_detection",
    option: "turnDetection",
    model: "gpt-transcribe",
    body: { model: "gpt-transcribe", turnDetection: { type: "server_vad" } },
    dropped: (s) => s.turnDetection.type === "none",
    inSession: (s) => !s.includes('"turn_detection":null'),
  },
  {
    refused: "logprobs",
    option: "logprobs",
    model: "gpt-transcribe",
    body: { model: "gpt-transcribe", logprobs: true },
    dropped: (s) => s.logprobs === false,
    inSession: (s) => s.includes("logprobs"),
  },
  {
    refused: "prompt",
    option: "prompt",
    model: "gpt-transcribe",
    body: { model: "gpt-transcribe", prompt: "Names: Zorblax" },
    dropped: (s) => s.prompt === null,
    inSession: (s) => s.includes("Zorblax"),
  },
  {
    refused: "noise_reduction",
    option: "noiseReduction",
    model: "gpt-live-transcribe",
    body: { model: "gpt-live-transcribe", noiseReduction: "far", noiseReductionStrength: 0.5 },
    dropped: (s) => s.noiseReduction === "off" && s.noiseReductionStrength === null,
    inSession: (s) => s.includes("far_field"),
  },
  {
    refused: "keywords",
    option: "keywords",
    model: "gpt-live-transcribe",
    body: { keywords: ["Zorblax"] },
    dropped: (s) => s.keywords === null,
    inSession: (s) => s.includes("Zorblax"),
  },
  {
    refused: "languages",
    option: "languages",
    model: "gpt-live-transcribe",
    body: { languages: ["en", "fr"] },
    dropped: (s) => s.languages === null,
    inSession: (s) => s.includes('"languages"'),
  },
  {
    refused: "delay",
    option: "delay",
    model: "gpt-realtime-whisper",
    body: { model: "gpt-realtime-whisper", delay: "low" },
    dropped: (s) => s.delay === null,
    inSession: (s) => s.includes('"delay"'),
  },
];

for (const c of CASES) {
  Deno.test(`a refused ${c.refused} is dropped on one retry, learned, and skipped next time`, async () => {
    const t = await startTestApp();
    try {
      await refuse(t, c.model, [c.refused]);
      const r = await postJson(t.baseUrl, "/api/session", c.body);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      // Two upstream attempts: the refusal, then the mint without the option.
      const first = await mints(t);
      assert.deepEqual(first.map((m) => m.status), [400, 200]);
      assert.equal(r.json.adjustments.length, 1);
      const [adj] = r.json.adjustments;
      assert.equal(adj.option, c.option);
      assert.equal(adj.learned, false);
      assert.match(adj.reason, /^OpenAI refused .+ so this session runs without it: .+\.$/);
      assert.match(adj.reason, new RegExp(c.model));
      // What the page gets, what the Store keeps and what the key is bound to all agree.
      assert.ok(c.dropped(r.json.settings), JSON.stringify(r.json.settings));
      const row = await t.store.getSession(r.json.sessionId);
      assert.ok(c.dropped(row!.settings as unknown as SessionSettings));
      assert.equal(c.inSession(JSON.stringify(boundSession(t, r.json.ephemeralKey))), false);
      if (c.refused === "turn_detection") assert.equal(r.json.clientCommits, true);

      // The learned rule, with the upstream message and request id, expiring in about 7 days.
      const rules = await t.store.listLearnedRules(Date.now());
      assert.equal(rules.length, 1);
      assert.equal(rules[0].model, c.model);
      assert.equal(rules[0].option, c.option);
      assert.match(rules[0].upstreamMessage, /not supported/i);
      assert.equal(rules[0].requestId, first[0].requestId);
      const days = (rules[0].expiresAt - rules[0].learnedAt) / 86_400_000;
      assert.equal(days, 7);

      // One warn line naming the option and OpenAI's request id of the refusal; no key anywhere.
      const warns = t.logs.filter((l) => l.message.startsWith("OpenAI refused a session option"));
      assert.equal(warns.length, 1);
      assert.equal(warns[0].level, "warn");
      assert.equal(warns[0].fields?.option, c.option);
      assert.equal(warns[0].fields?.requestId, first[0].requestId);
      assert.match(String(warns[0].fields?.requestId), /^req_[0-9a-f]{32}$/);
      const logged = JSON.stringify(t.logs);
      assert.ok(!logged.includes(t.emulator.apiKey), "the API key is not logged");
      assert.doesNotMatch(logged, /ek_/);

      // The next session leaves the option out at once: one upstream attempt, and it says so.
      const again = await postJson(t.baseUrl, "/api/session", c.body);
      assert.equal(again.status, 200, JSON.stringify(again.json));
      assert.equal((await mints(t)).length, 3);
      assert.equal(again.json.adjustments.length, 1);
      assert.equal(again.json.adjustments[0].option, c.option);
      assert.equal(again.json.adjustments[0].learned, true);
      assert.ok(c.dropped(again.json.settings));
    } finally {
      await t.close();
    }
  });
}

Deno.test("a learned rule in the Store is used by a process that never saw the refusal", async () => {
  const t = await startTestApp();
  try {
    const now = Date.now();
    await t.store.recordLearnedRule({
      model: "gpt-transcribe",
      option: "turnDetection",
      upstreamMessage: "Turn detection is not supported for this transcription model.",
      requestId: "req_0123",
      learnedAt: now - 3_600_000,
      expiresAt: now + 3_600_000,
    });
    const r = await postJson(t.baseUrl, "/api/session", { model: "gpt-transcribe" });
    assert.equal(r.status, 200);
    assert.equal((await mints(t)).length, 1);
    assert.equal(r.json.clientCommits, true);
    assert.deepEqual(r.json.adjustments.map((a: { option: string }) => a.option), [
      "turnDetection",
    ]);
    assert.match(r.json.adjustments[0].reason, /Turn detection is not supported/);
    // A rule for another model changes nothing for this one.
    const other = await postJson(t.baseUrl, "/api/session", { model: "gpt-4o-transcribe" });
    assert.deepEqual(other.json.adjustments, []);
    assert.equal(other.json.clientCommits, false);
  } finally {
    await t.close();
  }
});

Deno.test("an expired learned rule is not applied: the option is tried again", async () => {
  const t = await startTestApp();
  try {
    const now = Date.now();
    await t.store.recordLearnedRule({
      model: "gpt-transcribe",
      option: "turnDetection",
      upstreamMessage: "Turn detection is not supported for this transcription model.",
      requestId: null,
      learnedAt: now - 8 * 86_400_000,
      expiresAt: now - 86_400_000,
    });
    const r = await postJson(t.baseUrl, "/api/session", { model: "gpt-transcribe" });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.adjustments, []);
    assert.equal(r.json.clientCommits, false);
    assert.equal(r.json.settings.turnDetection.type, "server_vad");
  } finally {
    await t.close();
  }
});

Deno.test("a second refusal is answered as before: no third attempt, no session, the first rule kept", async () => {
  const t = await startTestApp();
  try {
    await refuse(t, "gpt-transcribe", ["turn_detection", "prompt"]);
    const body = { model: "gpt-transcribe", prompt: "Names: Zorblax" };
    const r = await postJson(t.baseUrl, "/api/session", body);
    assert.equal(r.status, 502);
    assert.equal(r.json.error.code, "upstream_rejected");
    assert.match(r.json.error.message, /prompt/);
    assert.deepEqual((await mints(t)).map((m) => m.status), [400, 400]);
    assert.equal((await t.store.listSessions({ limit: 10 })).sessions.length, 0);
    const rules = await t.store.listLearnedRules(Date.now());
    assert.deepEqual(rules.map((x) => x.option), ["turnDetection"]);
    // The next session skips turn detection, so its one retry is spent on the prompt: it heals.
    const next = await postJson(t.baseUrl, "/api/session", body);
    assert.equal(next.status, 200, JSON.stringify(next.json));
    assert.deepEqual(
      next.json.adjustments.map((a: { option: string; learned: boolean }) => [a.option, a.learned]),
      [["turnDetection", true], ["prompt", false]],
    );
    assert.deepEqual((await mints(t)).map((m) => m.status), [400, 400, 400, 200]);
  } finally {
    await t.close();
  }
});

Deno.test("a refusal that names no option in use is not retried", async () => {
  const t = await startTestApp();
  try {
    t.emulator.control.failRest({
      endpoint: "client_secrets",
      status: 400,
      body: {
        error: {
          type: "invalid_request_error",
          code: "invalid_value",
          message: "Invalid value: 'x'. Supported values are: 'audio/pcm'.",
          param: "session.audio.input.format.type",
        },
      },
    });
    const r = await postJson(t.baseUrl, "/api/session", {
      model: "gpt-transcribe",
      logprobs: true,
    });
    assert.equal(r.status, 502);
    assert.equal(r.json.error.code, "upstream_rejected");
    assert.equal((await mints(t)).length, 1);
    assert.deepEqual(await t.store.listLearnedRules(Date.now()), []);
  } finally {
    await t.close();
  }
});

Deno.test("with SIGNALING=relay the learned rules shape the session too", async () => {
  const t = await startTestApp({ env: { SIGNALING: "relay" } });
  try {
    const now = Date.now();
    await t.store.recordLearnedRule({
      model: "gpt-live-transcribe",
      option: "keywords",
      upstreamMessage: "Unsupported parameter: 'session.audio.input.transcription.keywords'.",
      requestId: null,
      learnedAt: now,
      expiresAt: now + 60_000,
    });
    const r = await postJson(t.baseUrl, "/api/session", { keywords: ["Zorblax"] });
    assert.equal(r.status, 200);
    assert.equal(r.json.ephemeralKey, null);
    assert.equal(r.json.adjustments[0].option, "keywords");
    assert.equal(r.json.settings.keywords, null);
    const row = await t.store.getSession(r.json.sessionId);
    assert.equal((row!.settings as unknown as SessionSettings).keywords, null);
  } finally {
    await t.close();
  }
});
