/**
 * Unit tests of session validation and `session.update` merge rules.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ApiError } from "./errors.ts";
import { buildSession, type EffectiveSession } from "./session_schema.ts";

const ctx = { defaultSilenceDurationMs: 200 };
// deno-lint-ignore no-explicit-any
type Json = any;

function update(current: EffectiveSession, session: unknown): Json {
  return buildSession(session, "session.", ctx, { current, source: "update" });
}

Deno.test("update merges: sub-objects replace and get defaults, null clears, strength is kept", () => {
  let s: Json = buildSession({ type: "transcription" }, "session.", ctx);
  s = update(s, {
    type: "transcription",
    audio: {
      input: {
        noise_reduction: { type: "far_field", strength: 0.4 },
        turn_detection: { type: "server_vad", threshold: 0.7 },
        transcription: { model: "gpt-4o-transcribe", language: "de" },
      },
    },
  });
  assert.deepEqual(s.audio.input.turn_detection, {
    type: "server_vad",
    threshold: 0.7,
    prefix_padding_ms: 300,
    silence_duration_ms: 200,
  });
  assert.deepEqual(s.audio.input.transcription, {
    model: "gpt-4o-transcribe",
    language: "de",
    prompt: null,
  });
  s = update(s, {
    type: "transcription",
    audio: { input: { noise_reduction: { type: "near_field" } } },
  });
  assert.deepEqual(s.audio.input.noise_reduction, {
    type: "near_field",
    strength: 0.4,
  });
  s = update(s, {
    type: "transcription",
    audio: { input: { turn_detection: null, noise_reduction: null } },
  });
  assert.equal(s.audio.input.turn_detection, null);
  assert.equal(s.audio.input.noise_reduction, null);
  assert.equal(s.audio.input.transcription.language, "de");
});

Deno.test("errors carry OpenAI codes and dotted params", () => {
  const base = buildSession({ type: "transcription" }, "session.", ctx);
  const cases: [unknown, string, string][] = [
    [
      {
        type: "transcription",
        audio: {
          input: { turn_detection: { type: "server_vad", threshold: 2 } },
        },
      },
      "decimal_above_max_value",
      "session.audio.input.turn_detection.threshold",
    ],
    [
      {
        type: "transcription",
        audio: {
          input: { turn_detection: { type: "server_vad", threshold: "x" } },
        },
      },
      "invalid_type",
      "session.audio.input.turn_detection.threshold",
    ],
    [
      {
        type: "transcription",
        audio: {
          input: {
            turn_detection: { type: "semantic_vad", eagerness: "eager" },
          },
        },
      },
      "invalid_value",
      "session.audio.input.turn_detection.eagerness",
    ],
    [
      {
        type: "transcription",
        audio: {
          input: { turn_detection: { type: "semantic_vad", threshold: 0.5 } },
        },
      },
      "unknown_parameter",
      "session.audio.input.turn_detection.threshold",
    ],
    [
      { type: "transcription", include: ["logprobs"] },
      "invalid_value",
      "session.include[0]",
    ],
    [
      {
        type: "transcription",
        audio: { input: { format: { type: "audio/pcmu", rate: 8000 } } },
      },
      "unknown_parameter",
      "session.audio.input.format.rate",
    ],
    [
      { type: "transcription", audio: { output: {} } },
      "unknown_parameter",
      "session.audio.output",
    ],
    [
      { type: "transcription", model: "gpt-realtime" },
      "unknown_parameter",
      "session.model",
    ],
  ];
  for (const [session, code, param] of cases) {
    assert.throws(() => update(base, session), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.code, code, JSON.stringify(session));
      assert.equal(e.param, param);
      assert.equal(e.status, 400);
      return true;
    });
  }
});

Deno.test("realtime sessions: defaults, output_modalities, voice object, SIP accept rules", () => {
  const r: Json = buildSession(
    {
      type: "realtime",
      output_modalities: ["text"],
      audio: { output: { voice: { id: "voice_1" } } },
    },
    "session.",
    ctx,
  );
  assert.deepEqual(r.output_modalities, ["text"]);
  assert.deepEqual(r.audio.output.voice, { id: "voice_1" });
  assert.equal(r.audio.input.turn_detection.idle_timeout_ms, null);
  assert.throws(
    () =>
      buildSession(
        { type: "realtime", output_modalities: ["text", "audio"] },
        "session.",
        ctx,
      ),
    ApiError,
  );
  assert.throws(
    () => buildSession({ type: "realtime", model: "gpt-9" }, "session.", ctx),
    /Invalid value: 'gpt-9'/,
  );
  const sip: Json = buildSession(
    {
      type: "realtime",
      audio: {
        input: {
          turn_detection: { type: "server_vad", idle_timeout_ms: 6000 },
        },
      },
    },
    "",
    ctx,
    { source: "sip_accept" },
  );
  assert.equal(sip.audio.input.turn_detection.idle_timeout_ms, 6000);
  assert.throws(
    () =>
      buildSession(
        {
          type: "realtime",
          audio: {
            input: { turn_detection: { type: "server_vad", threshold: 0.5 } },
          },
        },
        "",
        ctx,
        { source: "sip_accept" },
      ),
    /Unknown parameter: 'audio.input.turn_detection.threshold'/,
  );
  assert.throws(
    () =>
      buildSession({ type: "transcription" }, "", ctx, {
        source: "sip_accept",
      }),
    /Invalid value: 'transcription'/,
  );
});
