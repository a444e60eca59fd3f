import assert from "node:assert/strict";
import {
  DEPRECATED_SHUTDOWN_DATE,
  findModel,
  MODELS,
  TURN_DETECTION_UNSUPPORTED,
} from "./models.ts";
import { TRANSCRIPTION_MODELS } from "../emulator/session_schema.ts";
import { loadConfig } from "./config.ts";

Deno.test("MODELS covers exactly the transcription models of openai@7.57.0", () => {
  assert.deepEqual(
    MODELS.map((m) => m.id).sort(),
    [...TRANSCRIPTION_MODELS].sort(),
  );
});

Deno.test("MODELS labels deprecated models with their shutdown date and current ones without", () => {
  for (const m of MODELS) {
    if (m.status === "deprecated") {
      assert.equal(m.shutdownDate, DEPRECATED_SHUTDOWN_DATE, m.id);
    } else assert.equal(m.shutdownDate, null, m.id);
  }
  for (
    const id of ["whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"]
  ) {
    assert.equal(findModel(id)?.status, "deprecated", id);
  }
});

Deno.test("the default model is current and per-model rules follow the 2026-11 update", async () => {
  const config = await loadConfig({});
  assert.equal(findModel(config.defaultModel)?.status, "current");
  const whisper = findModel("gpt-realtime-whisper")!;
  assert.equal(whisper.supports.turnDetection, false);
  assert.equal(whisper.supports.prompt, false);
  assert.equal(whisper.supports.delay, true);
  for (const id of ["gpt-transcribe", "gpt-live-transcribe"]) {
    assert.equal(findModel(id)!.supports.keywords, true, id);
    assert.equal(findModel(id)!.supports.delay, false, id);
  }
  assert.equal(findModel("gpt-4o-transcribe")!.supports.keywords, false);
  assert.equal(findModel("nope"), undefined);
});

Deno.test("turn detection and prices follow the 2026-12 update", () => {
  const noVad = ["gpt-live-transcribe", "gpt-realtime-whisper"];
  for (const m of MODELS) {
    const vad = !noVad.includes(m.id);
    assert.equal(m.supports.turnDetection, vad, m.id);
    assert.equal(m.defaultTurnDetection, vad ? "server_vad" : null, m.id);
  }
  const prices = Object.fromEntries(MODELS.map((m) => [m.id, m.pricePerMinuteUsd]));
  assert.deepEqual(prices, {
    "gpt-transcribe": 0.0045,
    "gpt-live-transcribe": 0.017,
    "gpt-realtime-whisper": 0.017,
    // The update lists no price for the deprecated models.
    "gpt-4o-transcribe": null,
    "gpt-4o-mini-transcribe": null,
    "gpt-4o-mini-transcribe-2025-12-15": null,
    "gpt-4o-transcribe-diarize": null,
    "whisper-1": null,
  });
  assert.deepEqual(TURN_DETECTION_UNSUPPORTED, {
    type: "invalid_request_error",
    code: "invalid_value",
    message: "Turn detection is not supported for this transcription model.",
    param: "audio.input.turn_detection",
  });
});

Deno.test("each model lists its VAD kinds and noise reduction strength", () => {
  for (const m of MODELS) {
    // No server VAD means no VAD kind at all: the page commits turns.
    assert.deepEqual(
      [...m.supports.turnDetectionTypes],
      m.supports.turnDetection ? ["server_vad", "semantic_vad"] : [],
      m.id,
    );
    // The 2026-11 update: `noise_reduction.strength` is a session option, for every model.
    assert.equal(m.supports.noiseReductionStrength, true, m.id);
  }
  assert.deepEqual([...findModel("gpt-realtime-whisper")!.supports.turnDetectionTypes], []);
  assert.deepEqual([...findModel("gpt-live-transcribe")!.supports.turnDetectionTypes], []);
});
