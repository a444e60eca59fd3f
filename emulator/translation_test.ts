/**
 * The emulator's translation machinery beyond the protocol cases (those run in the conformance
 * suite, emulator/conformance/cases/translation_*.ts): source text from the transcription queues
 * (per session first) and its placeholder, translated text per language and session, the lag
 * between them, `translationDelayMs: 0` with `translationOutputAudio: "silence"`, and the control
 * API's per-language queues.
 *
 * @module
 */
import assert from "node:assert/strict";
import { base64ToPcm16 } from "./audio.ts";
import {
  appendAudio,
  deltaText,
  type EventSocket,
  post,
  silence,
  startTestEmulator,
  tone,
  translationSocket,
} from "./testkit.ts";
import { SEGMENT_SILENCE_MS } from "./translation_engine.ts";

const OUT = "session.output_transcript.delta";
const IN = "session.input_transcript.delta";
const AUDIO = "session.output_audio.delta";
/** The VAD finds a speech region within this of its true region (as for transcription). */
const VAD_TOLERANCE_MS = 100;
const FRAME_MS = 200;

/** Appends PCM16 as `session.input_audio_buffer.append` in 200 ms chunks. */
function appendTranslation(s: EventSocket, pcm: Int16Array): void {
  appendAudio(s, pcm, FRAME_MS, "session.input_audio_buffer.append");
}

Deno.test("translation socket: input transcription → source text from the transcription queue", async () => {
  const emu = await startTestEmulator({ translationDelayMs: 400 });
  try {
    const r = await post(emu, "/v1/realtime/translations/client_secrets", {
      session: {
        model: "gpt-realtime-translate",
        audio: {
          input: { transcription: { model: "gpt-realtime-whisper" } },
          output: { language: "fr" },
        },
      },
    });
    // A translation secret opens the socket too (its session, not the URL's model).
    const s = await translationSocket(emu, r.json!.value);
    const sessionId = s.events[0].session.id;
    assert.equal(s.events[0].session.audio.output.language, "fr");
    // Per-session queues come first (callId = the session id, as for Realtime sockets).
    emu.control.queueTranscripts(["Hello there."], sessionId);
    emu.control.queueTranslations("fr", ["Bonjour."], sessionId);
    emu.control.queueTranslations("fr", ["Encore."]);
    appendTranslation(
      s,
      new Int16Array([...silence(600), ...tone(1200), ...silence(2000), ...tone(800)]),
    );
    appendTranslation(s, silence(2200));
    await s.waitFor(OUT, (e) => e.delta === " Encore.", 5000);
    await s.waitFor(IN, (e) => e.delta.includes("[speech"), 5000);
    // The second stretch: no per-session text left, the global queue is next.
    assert.equal(deltaText(s.events, OUT), "Bonjour. Encore.");
    const source = deltaText(s.events, IN);
    const m = source.match(/^Hello there\. \[speech (\d\.\d) s\]$/);
    assert.ok(m, source);
    assert.ok(Math.abs(Number(m[1]) - 0.8) <= 0.2, m[1]);
    // Source text is not delayed: it ends before the translation of the same stretch.
    const firstIn = s.events.filter((e) => e.type === IN)[0];
    const firstOut = s.events.filter((e) => e.type === OUT)[0];
    assert.ok(firstIn.elapsed_ms < firstOut.elapsed_ms);
    await s.close();
  } finally {
    await emu.close();
  }
});

Deno.test("translation socket: delay 0 and silent output audio", async () => {
  const emu = await startTestEmulator({ translationDelayMs: 0, translationOutputAudio: "silence" });
  try {
    const s = await translationSocket(emu);
    appendTranslation(s, new Int16Array([...silence(400), ...tone(1000), ...silence(1200)]));
    const out = await s.waitFor(OUT, () => true, 5000);
    assert.match(out.delta, /^\[en · speech 1\.\d s\]$/);
    // Speech ends at 1400 ms; its end is known after the 500 ms segment silence.
    assert.ok(out.elapsed_ms >= 1400 + SEGMENT_SILENCE_MS - VAD_TOLERANCE_MS, `${out.elapsed_ms}`);
    const audio = s.events.filter((e) => e.type === AUDIO);
    assert.ok(audio.length >= 4);
    assert.ok(audio.every((a) => base64ToPcm16(a.delta).every((v) => v === 0)));
    assert.ok(audio[0].elapsed_ms >= 400 && audio[0].elapsed_ms <= 400 + FRAME_MS * 2);
    await s.close();
  } finally {
    await emu.close();
  }
});

Deno.test("control API: translated texts are queued per language, validated", async () => {
  const emu = await startTestEmulator();
  try {
    const bad = await post(emu, "/_emulator/transcripts", { texts: ["x"], language: 5 });
    assert.equal(bad.status, 400);
    assert.equal(bad.json!.error.code, "invalid_type");
    assert.equal(bad.json!.error.param, "language");
    const ok = await post(emu, "/_emulator/transcripts", {
      texts: ["Hola."],
      language: "es",
      callId: "rtc_x",
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json!.queued.languages, {
      es: { global: [], perCall: { rtc_x: ["Hola."] } },
    });
    // The source-transcript queue is separate.
    assert.deepEqual(ok.json!.queued.global, []);
    await post(emu, "/_emulator/reset");
    const after = await (await fetch(`${emu.baseUrl}/_emulator/transcripts`)).json();
    assert.deepEqual(after.languages, {});
  } finally {
    await emu.close();
  }
});
