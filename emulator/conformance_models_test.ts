/**
 * Conformance, protocol reference §5.3 and the 2026-11 update, model by model over
 * `?intent=transcription`: who streams, who sends logprobs (only when `include`
 * asks), which usage shape, and what a session without transcription emits.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  appendAudio,
  type Ev,
  silence,
  startTestEmulator,
  tone,
  transcriptionSocket,
} from "./testkit.ts";
import { TRANSCRIPTION_MODELS } from "./models.ts";

const DELTA = "conversation.item.input_audio_transcription.delta";
const COMPLETED = "conversation.item.input_audio_transcription.completed";
const LOGPROBS = "item.input_audio_transcription.logprobs";

function session(model: string, include: boolean): Ev {
  // gpt-realtime-whisper and gpt-live-transcribe take no turn detection; sending null is what the
  // guide does, omitting it means the same (the session_schema tests cover that).
  const noVad = model === "gpt-realtime-whisper" || model === "gpt-live-transcribe";
  return {
    type: "transcription",
    audio: {
      input: {
        transcription: { model },
        ...(noVad ? { turn_detection: null } : {}),
      },
    },
    ...(include ? { include: [LOGPROBS] } : {}),
  };
}

Deno.test("§5.3 every model: deltas concatenate to the text; logprobs only when asked and supported; usage shape", async () => {
  const emu = await startTestEmulator({ streamingWordIntervalMs: 100 });
  try {
    for (const model of TRANSCRIPTION_MODELS) {
      for (const include of [false, true]) {
        const s = await transcriptionSocket(emu, session(model, include));
        try {
          const text = `Model ${model} speaks here.`;
          emu.control.queueTranscripts([text], s.events[0].session.id);
          appendAudio(s, silence(300));
          appendAudio(s, tone(900));
          appendAudio(s, silence(600));
          if (model === "gpt-realtime-whisper" || model === "gpt-live-transcribe") {
            // Models without turn detection: the client commits.
            s.send({ type: "input_audio_buffer.commit" });
          }
          const done = await s.waitFor(COMPLETED);
          const what = `${model} include=${include}`;
          const deltas = s.events.filter((e) => e.type === DELTA);
          assert.equal(done.transcript, text, what);
          assert.equal(deltas.map((e) => e.delta).join(""), text, what);
          if (model === "whisper-1") {
            assert.equal(deltas.length, 1, what);
            assert.equal(done.usage.type, "duration", what);
            assert.ok(done.usage.seconds > 0, what);
          } else {
            assert.ok(deltas.length > 1, what);
            assert.equal(done.usage.type, "tokens", what);
            assert.equal(
              done.usage.total_tokens,
              done.usage.input_tokens + done.usage.output_tokens,
              what,
            );
          }
          const wantLogprobs = include && model !== "whisper-1" &&
            model !== "gpt-4o-transcribe-diarize";
          assert.equal(Array.isArray(done.logprobs), wantLogprobs, what);
          assert.ok(
            deltas.every((e) => Array.isArray(e.logprobs) === wantLogprobs),
            what,
          );
          const kw = model === "gpt-transcribe" ||
            model === "gpt-live-transcribe";
          assert.equal(Array.isArray(done.languages), kw, what);
          // Every delta of the item precedes its completed; all carry its id.
          assert.ok(deltas.every((e) => e.item_id === done.item_id), what);
        } finally {
          await s.close();
        }
      }
    }
  } finally {
    await emu.close();
  }
});

Deno.test("§5.1 transcription null: turns are committed and added, nothing is transcribed", async () => {
  const emu = await startTestEmulator();
  const s = await transcriptionSocket(emu);
  try {
    assert.equal(s.events[0].session.audio.input.transcription, null);
    emu.control.queueTranscripts(["never used"]);
    appendAudio(s, silence(300));
    appendAudio(s, tone(800));
    appendAudio(s, silence(600));
    await s.waitFor("conversation.item.done");
    // Longer than every transcription latency of the test emulator.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(s.types().slice(1), [
      "input_audio_buffer.speech_started",
      "input_audio_buffer.speech_stopped",
      "input_audio_buffer.committed",
      "conversation.item.added",
      "conversation.item.done",
    ]);
    // The queued text was not consumed.
    const queued = await (await fetch(`${emu.baseUrl}/_emulator/transcripts`))
      .json();
    assert.deepEqual(queued.global, ["never used"]);
  } finally {
    await s.close();
    await emu.close();
  }
});
