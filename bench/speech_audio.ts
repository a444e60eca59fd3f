/**
 * Real speech for load benchmarks: an espeak-ng WAV from `testing/speech.ts` at 24 kHz, encoded
 * once into `input_audio_buffer.append` messages, plus the lag and loss arithmetic on the events
 * each session receives.
 *
 * @module
 */
import { makeUtterancesWav } from "../testing/speech.ts";
import { readWav, resample } from "../emulator/audio.ts";
import { type AudioSession, encodeChunks } from "./ws_audio.ts";

/** Pre-encoded speech shared by every session of a load run. */
export interface SpeechAudio {
  chunks: string[];
  chunkMs: number;
  durationMs: number;
  /** Utterances spoken in the file (each must come back as one `completed`). */
  utterances: number;
}

/** Sentences spoken by the load benchmarks. */
export const LOAD_TEXTS = [
  "The quick brown fox jumps over the lazy dog.",
  "Please send the quarterly report before noon on Friday.",
  "Live captions make meetings easier to follow.",
];

/** Makes (or reuses) the speech file and encodes it into 100 ms append messages. */
export async function loadSpeech(
  options: { utterances?: number; chunkMs?: number } = {},
): Promise<SpeechAudio> {
  const texts = LOAD_TEXTS.slice(0, options.utterances ?? LOAD_TEXTS.length);
  const wav = await makeUtterancesWav(texts, {
    padStartSec: 0.5,
    padEndSec: 1.0,
    gapSec: 1.0,
  });
  const { samples, sampleRate } = readWav(await Deno.readFile(wav.path));
  const pcm = sampleRate === 24000 ? samples : resample(samples, sampleRate, 24000);
  const chunkMs = options.chunkMs ?? 100;
  return {
    chunks: encodeChunks(pcm, chunkMs),
    chunkMs,
    durationMs: pcm.length / 24,
    utterances: texts.length,
  };
}

/**
 * Lag of each `speech_stopped` event: its arrival minus the moment the audio that reveals it was
 * sent. The emulator's default `audio_end_ms` already includes the silence that ended the turn (as
 * the SDK documents); with `speechStoppedAudioEnd: "speech_end"` pass that silence as `silenceMs`. Slack from chunking is removed by comparing with a run
 * of one session (the baseline); this is what "keeping up with real time" looks like from outside.
 */
export function speechStoppedLags(
  sessions: readonly AudioSession[],
  starts: readonly number[],
  chunkMs: number,
  silenceMs: number,
): number[] {
  const out: number[] = [];
  sessions.forEach((s, i) => {
    for (const r of s.received) {
      if (r.type !== "input_audio_buffer.speech_stopped") continue;
      const end = Number(r.event.audio_end_ms) + silenceMs;
      const sentAt = starts[i] + Math.floor(end / chunkMs) * chunkMs;
      out.push(r.at - sentAt);
    }
  });
  return out;
}

/** Utterances that never got a `completed` event, summed over sessions. */
export function lostUtterances(
  sessions: readonly AudioSession[],
  expected: number,
): number {
  let lost = 0;
  for (const s of sessions) {
    const done = s.received.filter((r) =>
      r.type === "conversation.item.input_audio_transcription.completed"
    ).length;
    lost += Math.max(0, expected - done);
  }
  return lost;
}

/** Resolves once every session has `expected` completed events, or after `timeoutMs`. */
export async function waitForCompleted(
  sessions: readonly AudioSession[],
  expected: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (
    performance.now() < deadline && lostUtterances(sessions, expected) > 0
  ) {
    await new Promise((r) => setTimeout(r, 50));
  }
}
