/**
 * The conformance suite against the emulator: every case runs and every check passes (the CI run
 * of `deno task conformance`), and an emulator that deviates from the protocol fails it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { CASES } from "./cases/mod.ts";
import { runSuite } from "./suite.ts";
import { openTarget } from "./target.ts";
import { formatTable } from "./report.ts";

/** werift (the client peer) and the emulator's peers leave timers and handles behind. */
const TW = { sanitizeResources: false, sanitizeOps: false };

Deno.test("every conformance case passes against the emulator", TW, async () => {
  const target = await openTarget({ kind: "emulator", apiKey: null });
  try {
    const run = await runSuite(target);
    const failed = run.results.filter((r) => r.status !== "pass");
    assert.deepEqual(failed, [], formatTable(failed));
    // Every case ran and checked something; the open questions were probed.
    assert.deepEqual(
      [...new Set(run.results.map((r) => r.caseId))],
      CASES.map((c) => c.id),
    );
    assert.deepEqual(run.questions.map((q) => q.id).sort(), [
      "gpt_transcribe_webrtc",
      "live_transcribe_speech_events",
      "logprobs_current_models",
      "sideband_session_created",
      "sideband_transcription_updates",
      "translation_call_model_query",
      "translation_default_language",
      "translation_hangup",
      "translation_sideband",
      "translation_unlisted_languages",
      "translation_updatable_fields",
    ]);
    assert.ok(run.results.length > 300, `${run.results.length} checks`);
  } finally {
    await target.close();
  }
});

Deno.test("an emulator that deviates from the protocol fails the suite", TW, async () => {
  // The live server's default silence is 200 ms; whisper-1 and diarize send no logprobs (§5.3).
  const target = await openTarget({ kind: "emulator", apiKey: null }, {
    defaultSilenceDurationMs: 500,
    omitLogprobsModels: [],
    // The preflight list before @openai/agents-realtime's header was known.
    corsAllowedHeaders: ["Authorization", "Content-Type"],
  });
  const failures = async (only: string[]) =>
    (await runSuite(target, { only })).results.filter((r) => r.status === "fail")
      .map((r) => `${r.caseId}: ${r.what}`);
  try {
    assert.deepEqual(await failures(["rest.secret.transcription_defaults", "audio.vad_turn"]), [
      "rest.secret.transcription_defaults: session.audio.input",
      "audio.vad_turn: default silence_duration_ms",
    ]);
    // The translation URLs follow /v1/realtime/calls, so the narrow list fails there too.
    const narrow = (path: string) => [
      `translation.calls.preflight: ${path}: allows x-openai-agents-sdk`,
      `translation.calls.preflight: ${path}: allows x-stainless-os`,
      `translation.calls.preflight: ${path}: allow-headers`,
    ];
    assert.deepEqual(await failures(["calls.preflight", "translation.calls.preflight"]), [
      "calls.preflight: allows x-openai-agents-sdk",
      "calls.preflight: allows the openai package's x-stainless-*",
      ...narrow("/v1/realtime/translations/calls"),
      ...narrow("/v1/realtime/translations/calls/rtc_x/hangup"),
    ]);
    assert.deepEqual(await failures(["audio.models"]), [
      "audio.models: gpt-4o-transcribe-diarize +logprobs: logprobs",
      "audio.models: whisper-1 +logprobs: logprobs",
    ]);
    // What the emulator is told about an open question is its assumption, not a failure.
    target.emulator!.control.models.omitLogprobs = [
      "whisper-1",
      "gpt-4o-transcribe-diarize",
      "gpt-live-transcribe",
    ];
    const models = await runSuite(target, { only: ["audio.models"] });
    assert.equal(models.results.filter((r) => r.status === "fail").length, 0);
    const seen = models.questions.find((q) => q.id === "logprobs_current_models")!;
    assert.deepEqual(
      seen.observations.map((o) => `${o.what}=${o.observed}`),
      [
        "gpt-transcribe: logprobs on completed and deltas=true",
        "gpt-live-transcribe: logprobs on completed and deltas=false",
        "gpt-realtime-whisper: logprobs on completed and deltas=true",
      ],
    );
  } finally {
    await target.close();
  }
});
