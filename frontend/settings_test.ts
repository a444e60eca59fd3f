import assert from "node:assert/strict";
import { buildSessionOptions, DEFAULTS, pageCommits } from "./settings.js";
import { MODELS } from "../lib/models.ts";
import { resolveSessionOptions } from "../lib/session_config.ts";

const TURNS = ["server_vad", "semantic_vad", "manual"] as const;

Deno.test("every model × turn mode × filled-in settings is accepted by the server", () => {
  const full = {
    ...DEFAULTS,
    language: "fr",
    languages: "fr, en",
    prompt: "A talk about web servers",
    keywords: "Hono, Val Town",
    delay: "low",
    noise: "far",
    noiseStrength: 0.6,
    eagerness: "high",
  };
  for (const model of MODELS) {
    for (const turn of TURNS) {
      for (const settings of [{ ...DEFAULTS, turn }, { ...full, turn }]) {
        const body = buildSessionOptions(settings, model);
        const resolved = resolveSessionOptions(body, { defaultModel: "gpt-transcribe" });
        assert.equal(resolved.model, model.id);
        assert.equal(
          resolved.turnDetection.type === "none",
          pageCommits(settings, model),
          `${model.id}/${turn}: the page commits exactly when the server VAD is off`,
        );
      }
    }
  }
});

Deno.test("options a model does not take are left out", () => {
  const whisper = MODELS.find((m) => m.id === "gpt-realtime-whisper")!;
  const body = buildSessionOptions(
    { ...DEFAULTS, prompt: "x", keywords: "a, b", languages: "en", delay: "high" },
    whisper,
  );
  assert.deepEqual(body, {
    model: "gpt-realtime-whisper",
    delay: "high",
    noiseReduction: "off",
    turnDetection: { type: "none" },
  });
  const transcribe = MODELS.find((m) => m.id === "gpt-transcribe")!;
  assert.deepEqual(buildSessionOptions({ ...DEFAULTS }, transcribe), {
    model: "gpt-transcribe",
    logprobs: true,
    noiseReduction: "off",
    turnDetection: {
      type: "server_vad",
      threshold: 0.5,
      prefixPaddingMs: 300,
      silenceDurationMs: 500,
    },
  });
});

Deno.test("a model without noise reduction strength gets no strength", () => {
  const transcribe = MODELS.find((m) => m.id === "gpt-transcribe")!;
  const settings = { ...DEFAULTS, noise: "near", noiseStrength: 0.4 };
  assert.equal(buildSessionOptions(settings, transcribe).noiseReductionStrength, 0.4);
  const noStrength = {
    ...transcribe,
    supports: { ...transcribe.supports, noiseReductionStrength: false },
  };
  const body = buildSessionOptions(settings, noStrength);
  assert.equal(body.noiseReduction, "near");
  assert.equal("noiseReductionStrength" in body, false);
});
