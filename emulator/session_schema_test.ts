/**
 * Unit tests of session validation and `session.update` merge rules.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ApiError } from "./errors.ts";
import {
  buildSession,
  defaultSession,
  type EffectiveSession,
  TRANSCRIPTION_MODELS,
} from "./session_schema.ts";

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

Deno.test("per-model options: delay, keywords, languages, prompt, turn_detection (2026-11/12 rules)", () => {
  const rules: Record<string, Record<string, boolean>> = {};
  for (const m of TRANSCRIPTION_MODELS) {
    const rw = m === "gpt-realtime-whisper";
    const kw = m === "gpt-transcribe" || m === "gpt-live-transcribe";
    // The SDK's prompt comment excludes diarize as well.
    const prompt = !rw && m !== "gpt-4o-transcribe-diarize";
    rules[m] = { delay: rw, keywords: kw, languages: kw, prompt };
  }
  const values: Record<string, unknown> = {
    delay: "low",
    keywords: ["Deno"],
    languages: ["en", "de"],
    prompt: "expect words about software",
  };
  for (const [model, allowed] of Object.entries(rules)) {
    const td = {};
    for (const [field, ok] of Object.entries(allowed)) {
      const req = {
        type: "transcription",
        audio: {
          input: {
            transcription: { model, [field]: values[field] },
            ...td,
          },
        },
      };
      if (ok) {
        const eff: Json = buildSession(req, "session.", ctx);
        assert.deepEqual(
          eff.audio.input.transcription[field],
          values[field],
          `${model} ${field}`,
        );
      } else {
        assert.throws(
          () => buildSession(req, "session.", ctx),
          (e: ApiError) =>
            e.status === 400 && e.code === "unsupported_parameter" &&
            e.param === `session.audio.input.transcription.${field}`,
          `${model} ${field}`,
        );
      }
    }
  }
});

Deno.test("turn detection per model (2026-12): refused for the two streaming models, defaults follow the model", () => {
  const noVad = ["gpt-live-transcribe", "gpt-realtime-whisper"];
  for (const model of TRANSCRIPTION_MODELS) {
    const omitted: Json = buildSession(
      { type: "transcription", audio: { input: { transcription: { model } } } },
      "session.",
      ctx,
    );
    const want = noVad.includes(model) ? null : "server_vad";
    assert.equal(omitted.audio.input.turn_detection?.type ?? null, want, model);
    for (const type of ["server_vad", "semantic_vad"]) {
      const req = {
        type: "transcription",
        audio: { input: { transcription: { model }, turn_detection: { type } } },
      };
      if (!noVad.includes(model)) {
        const eff: Json = buildSession(req, "session.", ctx);
        assert.equal(eff.audio.input.turn_detection.type, type, `${model} ${type}`);
        continue;
      }
      assert.throws(
        () => buildSession(req, "session.", ctx),
        (e: ApiError) =>
          e.status === 400 && e.code === "invalid_value" && e.type === "invalid_request_error" &&
          e.param === "session.audio.input.turn_detection" &&
          e.message === "Turn detection is not supported for this transcription model.",
        `${model} ${type}`,
      );
    }
  }
  // An update that sets such a model without naming turn detection drops the default VAD…
  const start = defaultSession("transcription", ctx);
  const updated: Json = buildSession(
    {
      type: "transcription",
      audio: { input: { transcription: { model: "gpt-live-transcribe" } } },
    },
    "session.",
    ctx,
    { current: start, source: "update" },
  );
  assert.equal(updated.audio.input.turn_detection, null);
  // …an explicit VAD in the same update is refused, and a later model with VAD keeps "none".
  assert.throws(
    () =>
      buildSession(
        {
          type: "transcription",
          audio: {
            input: {
              transcription: { model: "gpt-live-transcribe" },
              turn_detection: { type: "server_vad" },
            },
          },
        },
        "session.",
        ctx,
        { current: start, source: "update" },
      ),
    /Turn detection is not supported/,
  );
  const back: Json = buildSession(
    { type: "transcription", audio: { input: { transcription: { model: "gpt-transcribe" } } } },
    "session.",
    ctx,
    { current: updated, source: "update" },
  );
  assert.equal(back.audio.input.turn_detection, null);
  // The guide's rule is about transcription sessions: a realtime session keeps its VAD.
  const realtime: Json = buildSession(
    {
      type: "realtime",
      audio: { input: { transcription: { model: "gpt-live-transcribe" } } },
    },
    "session.",
    ctx,
  );
  assert.equal(realtime.audio.input.turn_detection.type, "server_vad");
});

Deno.test("transcription absent is null; given without a model it gets the default model", () => {
  const none: Json = buildSession({ type: "transcription" }, "session.", ctx);
  assert.equal(none.audio.input.transcription, null);
  const bare: Json = buildSession(
    { type: "transcription", audio: { input: { transcription: {} } } },
    "session.",
    ctx,
  );
  assert.deepEqual(bare.audio.input.transcription, {
    model: "whisper-1",
    language: null,
    prompt: null,
  });
  const chosen: Json = buildSession(
    { type: "transcription", audio: { input: { transcription: {} } } },
    "session.",
    { ...ctx, defaultTranscriptionModel: "gpt-transcribe" },
  );
  assert.equal(chosen.audio.input.transcription.model, "gpt-transcribe");
  // noise_reduction: strength defaults to 1 when first enabled.
  const nr: Json = buildSession(
    {
      type: "transcription",
      audio: { input: { noise_reduction: { type: "near_field" } } },
    },
    "session.",
    ctx,
  );
  assert.deepEqual(nr.audio.input.noise_reduction, {
    type: "near_field",
    strength: 1,
  });
});
