import assert from "node:assert/strict";
import {
  buildTranscriptionSession,
  clientCommits,
  resolveSessionOptions,
  SessionOptionsError,
} from "./session_config.ts";
import { buildSession } from "../emulator/session_schema.ts";

const defaults = { defaultModel: "gpt-transcribe" };

function fieldOf(input: unknown): string {
  try {
    resolveSessionOptions(input, defaults);
  } catch (err) {
    assert.ok(err instanceof SessionOptionsError, String(err));
    return err.field;
  }
  assert.fail(`accepted ${JSON.stringify(input)}`);
}

Deno.test("resolveSessionOptions() fills defaults: current model, server VAD, no noise reduction", () => {
  const s = resolveSessionOptions({}, defaults);
  assert.equal(s.model, "gpt-transcribe");
  assert.deepEqual(s.turnDetection, { type: "server_vad" });
  assert.equal(s.noiseReduction, "off");
  assert.equal(s.logprobs, false);
  assert.equal(clientCommits(s), false);
});

Deno.test("resolveSessionOptions() names the field of every invalid value or combination", () => {
  assert.equal(fieldOf({ model: "gpt-5-transcribe" }), "model");
  assert.equal(fieldOf({ language: "English" }), "language");
  assert.equal(fieldOf({ bogus: 1 }), "bogus");
  assert.equal(
    fieldOf({ turnDetection: { type: "fast" } }),
    "turnDetection.type",
  );
  assert.equal(
    fieldOf({ turnDetection: { type: "server_vad", threshold: 2 } }),
    "turnDetection.threshold",
  );
  assert.equal(
    fieldOf({ turnDetection: { type: "server_vad", eagerness: "low" } }),
    "turnDetection.eagerness",
  );
  assert.equal(
    fieldOf({
      turnDetection: { type: "semantic_vad", silenceDurationMs: 300 },
    }),
    "turnDetection.silenceDurationMs",
  );
  for (const model of ["gpt-realtime-whisper", "gpt-live-transcribe"]) {
    for (const type of ["server_vad", "semantic_vad"]) {
      assert.equal(fieldOf({ model, turnDetection: { type } }), "turnDetection", model);
    }
  }
  assert.equal(
    fieldOf({ model: "gpt-realtime-whisper", prompt: "names" }),
    "prompt",
  );
  assert.equal(
    fieldOf({ model: "gpt-4o-transcribe", keywords: ["Hono"] }),
    "keywords",
  );
  assert.equal(
    fieldOf({ model: "gpt-4o-transcribe", languages: ["en"] }),
    "languages",
  );
  assert.equal(fieldOf({ model: "gpt-transcribe", delay: "low" }), "delay");
  assert.equal(fieldOf({ model: "whisper-1", logprobs: true }), "logprobs");
  assert.equal(
    fieldOf({ noiseReductionStrength: 0.5 }),
    "noiseReductionStrength",
  );
  assert.equal(fieldOf({ logprobs: "yes" }), "logprobs");
});

Deno.test("gpt-live-transcribe: no server turn detection, the page commits; the emulator agrees", () => {
  const s = resolveSessionOptions({ model: "gpt-live-transcribe", keywords: ["Hono"] }, defaults);
  assert.deepEqual(s.turnDetection, { type: "none" });
  assert.equal(clientCommits(s), true);
  const session = buildTranscriptionSession(s);
  assert.equal(session.audio?.input?.turn_detection, null);
  // The emulator's rules (the same catalog) accept what the app builds.
  const eff = buildSession(session, "session.", { defaultSilenceDurationMs: 200 });
  assert.equal(eff.audio?.input?.turn_detection, null);
});

Deno.test("gpt-realtime-whisper: turn detection null, the page commits turns", () => {
  const s = resolveSessionOptions({
    model: "gpt-realtime-whisper",
    delay: "low",
  }, defaults);
  assert.equal(clientCommits(s), true);
  const session = buildTranscriptionSession(s);
  assert.equal(session.audio?.input?.turn_detection, null);
  assert.deepEqual(session.audio?.input?.transcription, {
    model: "gpt-realtime-whisper",
    delay: "low",
  });
});

Deno.test("buildTranscriptionSession() keeps the private prompt out of the public session", () => {
  const s = resolveSessionOptions({
    language: "en",
    prompt: "User topic",
    keywords: ["Hono"],
    turnDetection: {
      type: "server_vad",
      threshold: 0.6,
      silenceDurationMs: 400,
    },
    noiseReduction: "far",
    noiseReductionStrength: 0.5,
    logprobs: true,
  }, defaults);
  const pub = buildTranscriptionSession(s);
  assert.equal(pub.audio?.input?.transcription?.prompt, "User topic");
  assert.doesNotMatch(JSON.stringify(pub), /Zorblax/);
  assert.deepEqual(pub.audio?.input?.turn_detection, {
    type: "server_vad",
    threshold: 0.6,
    silence_duration_ms: 400,
  });
  assert.deepEqual(pub.audio?.input?.noise_reduction, {
    type: "far_field",
    strength: 0.5,
  });
  assert.deepEqual(pub.include, ["item.input_audio_transcription.logprobs"]);
  const priv = buildTranscriptionSession(s, {
    privatePrompt: "Vocabulary: Zorblax",
  });
  assert.equal(
    priv.audio?.input?.transcription?.prompt,
    "Vocabulary: Zorblax\n\nUser topic",
  );
  // A model without prompt support gets no private prompt either.
  const w = resolveSessionOptions({ model: "gpt-realtime-whisper" }, defaults);
  assert.equal(
    buildTranscriptionSession(w, { privatePrompt: "Zorblax" }).audio?.input
      ?.transcription?.prompt,
    undefined,
  );
});

Deno.test("every catalog model's default session passes the emulator's strict schema", async () => {
  const { MODELS } = await import("./models.ts");
  for (const m of MODELS) {
    const s = resolveSessionOptions({
      model: m.id,
      logprobs: m.supports.logprobs,
    }, defaults);
    const session = buildTranscriptionSession(s, { privatePrompt: "Zorblax" });
    buildSession(session, "session.", { defaultSilenceDurationMs: 200 }, {
      source: "client_secret",
    });
  }
});

Deno.test("resolveSessionOptions() rejects a body that is not an object, naming the body", () => {
  for (const body of [null, [], "gpt-transcribe", 42, true]) {
    assert.throws(
      () => resolveSessionOptions(body, { defaultModel: "gpt-transcribe" }),
      (err: unknown) => err instanceof SessionOptionsError && err.field === "body",
      JSON.stringify(body),
    );
  }
});
