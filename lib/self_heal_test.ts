import assert from "node:assert/strict";
import {
  createSelfHeal,
  HEALABLE_OPTIONS,
  LEARNED_RULE_TTL_MS,
  refusedOption,
} from "./self_heal.ts";
import { resolveSessionOptions, type SessionSettings } from "./session_config.ts";
import { UpstreamError } from "./upstream.ts";
import type { LearnedRuleRow } from "./store/types.ts";

function settings(input: Record<string, unknown>): SessionSettings {
  return resolveSessionOptions(input, { defaultModel: "gpt-live-transcribe" });
}

const EVERYTHING = settings({
  model: "gpt-transcribe",
  language: "en",
  languages: ["en", "fr"],
  prompt: "Names",
  keywords: ["Zorblax"],
  turnDetection: { type: "server_vad" },
  noiseReduction: "near",
  noiseReductionStrength: 0.4,
  logprobs: true,
});

/** An upstream 400 as `lib/upstream.ts` reads it. */
function refusal(
  param: string | null,
  message: string,
  status = 400,
  type = "invalid_request_error",
) {
  const err = new UpstreamError(
    502,
    "upstream_rejected",
    `OpenAI rejected … (${status}): ${message}`,
    status,
  );
  err.upstreamType = type;
  err.param = param;
  err.upstreamMessage = message;
  err.requestId = "req_abc";
  return err;
}

Deno.test("refusedOption: the param decides, most specific option first", () => {
  const cases: [string, string][] = [
    ["session.audio.input.turn_detection", "turnDetection"],
    ["session.audio.input.turn_detection.type", "turnDetection"],
    ["session.include", "logprobs"],
    ["session.include[0]", "logprobs"],
    ["session.audio.input.transcription.prompt", "prompt"],
    ["session.audio.input.transcription.keywords", "keywords"],
    ["session.audio.input.transcription.languages", "languages"],
    ["session.audio.input.transcription.language", "language"],
    ["session.audio.input.noise_reduction.strength", "noiseReductionStrength"],
    ["session.audio.input.noise_reduction", "noiseReduction"],
    ["session.audio.input.noise_reduction.type", "noiseReduction"],
    // A sideband `session.update` names the param without the `session.` prefix.
    ["audio.input.turn_detection", "turnDetection"],
  ];
  for (const [param, option] of cases) {
    assert.equal(refusedOption(refusal(param, "Unsupported."), EVERYTHING)?.option, option, param);
  }
  const whisper = settings({ model: "gpt-realtime-whisper", delay: "low" });
  assert.equal(
    refusedOption(refusal("session.audio.input.transcription.delay", "x"), whisper)?.option,
    "delay",
  );
});

Deno.test("refusedOption: without a known param the message must name exactly one option in use", () => {
  const td = "Turn detection is not supported for this transcription model.";
  assert.equal(refusedOption(refusal(null, td), EVERYTHING)?.option, "turnDetection");
  assert.equal(refusedOption(refusal("session", td), EVERYTHING)?.option, "turnDetection");
  assert.equal(
    refusedOption(refusal(null, "Logprobs are not available for this model."), EVERYTHING)
      ?.option,
    "logprobs",
  );
  // Two options named: nothing is guessed.
  assert.equal(
    refusedOption(refusal(null, "Prompt and keywords cannot be combined."), EVERYTHING),
    null,
  );
  // Named but not in use: dropping it cannot help.
  const plain = settings({ model: "gpt-transcribe", turnDetection: { type: "none" } });
  assert.equal(refusedOption(refusal(null, td), plain), null);
  assert.equal(refusedOption(refusal("session.audio.input.turn_detection", td), plain), null);
  // A param we know that names something else is not overruled by the message.
  assert.equal(
    refusedOption(refusal("session.audio.input.format.type", `Bad format (${td})`), EVERYTHING),
    null,
  );
});

Deno.test("refusedOption: only a 400 invalid_request_error from OpenAI counts", () => {
  const param = "session.audio.input.turn_detection";
  assert.equal(refusedOption(refusal(param, "x", 401), EVERYTHING), null);
  assert.equal(refusedOption(refusal(param, "x", 500), EVERYTHING), null);
  assert.equal(refusedOption(refusal(param, "x", 400, "server_error"), EVERYTHING), null);
  assert.equal(refusedOption(new Error(param), EVERYTHING), null);
});

Deno.test("every healable option's drop removes it", () => {
  for (const o of HEALABLE_OPTIONS) {
    const base = o.option === "delay"
      ? settings({ model: "gpt-realtime-whisper", delay: "high" })
      : EVERYTHING;
    assert.equal(o.present(base), true, o.option);
    const dropped = o.drop(base);
    assert.equal(o.present(dropped), false, o.option);
    assert.equal(dropped.model, base.model);
  }
});

/** An in-memory stand-in for the Store's two learned-rule methods. */
function memoryRules() {
  const rows: LearnedRuleRow[] = [];
  let reads = 0;
  return {
    rows,
    reads: () => reads,
    store: {
      listLearnedRules(now: number) {
        reads++;
        return Promise.resolve(rows.filter((r) => r.expiresAt > now).map((r) => ({ ...r })));
      },
      recordLearnedRule(rule: LearnedRuleRow) {
        const i = rows.findIndex((r) => r.model === rule.model && r.option === rule.option);
        if (i >= 0) rows.splice(i, 1);
        rows.push({ ...rule });
        return Promise.resolve();
      },
    },
  };
}

Deno.test("mint: one retry without the refused option, learned for 7 days, then planned away", async () => {
  let now = 1_000_000;
  const mem = memoryRules();
  const logs: unknown[] = [];
  const heal = createSelfHeal({
    store: mem.store,
    now: () => now,
    log: (...a) => logs.push(a),
  });
  const tried: SessionSettings[] = [];
  const attempt = (s: SessionSettings) => {
    tried.push(s);
    return s.turnDetection.type === "none" ? Promise.resolve("ek_ok") : Promise.reject(
      refusal("session.audio.input.turn_detection", "Turn detection is not supported."),
    );
  };
  const s = settings({ model: "gpt-transcribe" });
  const healed = await heal.mint(await heal.plan(s), attempt);
  assert.equal(healed.value, "ek_ok");
  assert.equal(healed.attempts, 2);
  assert.equal(tried.length, 2);
  assert.equal(healed.settings.turnDetection.type, "none");
  assert.deepEqual(healed.adjustments.map((a) => a.option), ["turnDetection"]);
  assert.equal(mem.rows[0].expiresAt - mem.rows[0].learnedAt, LEARNED_RULE_TTL_MS);
  assert.equal(mem.rows[0].requestId, "req_abc");
  assert.equal(logs.length, 1);

  // Learned: the next plan drops it before any attempt, without reading the Store again.
  const reads = mem.reads();
  const plan = await heal.plan(s);
  assert.equal(mem.reads(), reads);
  assert.equal(plan.settings.turnDetection.type, "none");
  assert.equal(plan.adjustments[0].learned, true);
  assert.match(plan.adjustments[0].reason, /on 1970-01-01/);

  // After 7 days the option is tried again (the Store is read again, the rule has expired).
  now += LEARNED_RULE_TTL_MS + 1;
  const later = await heal.plan(s);
  assert.equal(later.settings.turnDetection.type, "server_vad");
  assert.deepEqual(later.adjustments, []);
});

Deno.test("mint: never more than one retry, and other failures are not retried", async () => {
  const heal = createSelfHeal({ store: memoryRules().store });
  let calls = 0;
  const always = () => {
    calls++;
    return Promise.reject(refusal("session.include", "Unsupported parameter: 'session.include'."));
  };
  const s = settings({ model: "gpt-transcribe", logprobs: true });
  await assert.rejects(heal.mint(await heal.plan(s), always), UpstreamError);
  // The retry had no logprobs left, so its refusal names nothing in use: it is the answer.
  assert.equal(calls, 2);

  calls = 0;
  const down = () => {
    calls++;
    return Promise.reject(new UpstreamError(502, "upstream_error", "OpenAI failed (500)", 500));
  };
  await assert.rejects(heal.mint(await heal.plan(s), down), /OpenAI failed/);
  assert.equal(calls, 1);
});

Deno.test("a Store that cannot read or write rules does not stop a mint", async () => {
  const logs: string[] = [];
  const heal = createSelfHeal({
    store: {
      listLearnedRules: () => Promise.reject(new Error("disk gone")),
      recordLearnedRule: () => Promise.reject(new Error("disk gone")),
    },
    log: (_level, message) => logs.push(message),
  });
  const s = settings({ model: "gpt-transcribe", prompt: "Names" });
  const healed = await heal.mint(
    await heal.plan(s),
    (x) =>
      x.prompt === null
        ? Promise.resolve(1)
        : Promise.reject(refusal("session.audio.input.transcription.prompt", "Unsupported.")),
  );
  assert.equal(healed.settings.prompt, null);
  assert.deepEqual(logs, [
    "Cannot read the learned rules",
    "OpenAI refused a session option; minting again without it",
    "Cannot record a learned rule",
  ]);
  // Still learned in this process.
  assert.equal((await heal.plan(s)).settings.prompt, null);
});

Deno.test("docs/self_healing.md lists every option of the table, in order", async () => {
  const doc = await Deno.readTextFile(new URL("../docs/self_healing.md", import.meta.url));
  const rows = [...doc.matchAll(/^\| `(\w+)`\s+\|/gm)].map((m) => m[1]);
  assert.deepEqual(rows, HEALABLE_OPTIONS.map((o) => o.option));
});

Deno.test("every healable option is a field of the session settings", () => {
  const fields = Object.keys(settings({}));
  for (const o of HEALABLE_OPTIONS) assert.ok(fields.includes(o.option), o.option);
});
