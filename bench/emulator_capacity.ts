/**
 * Emulator capacity. N concurrent WebSocket-audio sessions
 * (`?intent=transcription`) stream real speech at real-time pace into an emulator running in its
 * own process. Reported:
 *
 * - `processing/audio`: the emulator's CPU time divided by the wall-clock audio time of the run,
 *   sampled per second while streaming. Deno runs JavaScript on one thread, so the emulator keeps up
 *   with real time while this stays below 1.
 * - `speech_stopped` lag: arrival of each VAD event minus the moment the audio revealing it was
 *   sent; the baseline is the same figure with a single session in the same run.
 * - lost utterances (must be 0).
 *
 * The WebRTC half (20 Chromium peer connections) lives in `bench/webrtc_capacity.ts`.
 *
 * @module
 */
import type { Benchmark } from "./runner.ts";
import { allEqual, type Row } from "./stats.ts";
import { type EmulatorProcess, pool, sleep, spawnEmulator } from "./harness.ts";
import { procSample } from "./proc.ts";
import { type AudioSession, openAudioSession, streamRealtime } from "./ws_audio.ts";
import {
  loadSpeech,
  lostUtterances,
  type SpeechAudio,
  speechStoppedLags,
  waitForCompleted,
} from "./speech_audio.ts";

const SILENCE_MS = 200;

/** Result of one streaming run against an emulator. */
export interface StreamRun {
  sessions: AudioSession[];
  starts: number[];
  /** Emulator CPU ms per wall ms, one sample per second of streaming. */
  cpuRatios: number[];
  /** Emulator RSS after opening the sessions, bytes. */
  rssBytes: number;
  wallMs: number;
}

/** Opens `n` sessions on `emu` and streams `speech` through all of them at real-time pace. */
export async function streamThroughEmulator(
  emu: EmulatorProcess,
  n: number,
  speech: SpeechAudio,
): Promise<StreamRun> {
  const sessions = await pool(
    Array.from({ length: n }),
    16,
    () =>
      openAudioSession({
        baseUrl: emu.baseUrl,
        apiKey: emu.apiKey,
        silenceDurationMs: SILENCE_MS,
      }),
  );
  try {
    const cpuRatios: number[] = [];
    let last = await procSample(emu.pid);
    const rssBytes = last.rssBytes;
    let streaming = true;
    const sampler = (async () => {
      while (streaming) {
        await sleep(1000);
        const now = await procSample(emu.pid);
        cpuRatios.push((now.cpuMs - last.cpuMs) / (now.at - last.at));
        last = now;
      }
    })();
    const t0 = performance.now();
    const starts = await streamRealtime(sessions, speech.chunks, {
      chunkMs: speech.chunkMs,
    });
    const wallMs = performance.now() - t0;
    streaming = false;
    await sampler;
    // Transcripts arrive ~1.4 s after each commit (the emulated model latency).
    await waitForCompleted(sessions, speech.utterances, 5000);
    return { sessions, starts, cpuRatios, rssBytes, wallMs };
  } catch (error) {
    for (const s of sessions) s.close();
    throw error;
  }
}

/** Emulator-capacity benchmark, WebSocket-audio half (see module doc). */
export const emulatorCapacity: Benchmark = {
  name: "capacity_ws",
  description: "emulator: N WebSocket-audio sessions streaming speech in real time (baseline: 1)",
  async run(ctx) {
    const n = ctx.quick ? 50 : 200;
    const speech = await loadSpeech({ utterances: ctx.quick ? 1 : 3 });
    ctx.log(
      `speech: ${(speech.durationMs / 1000).toFixed(1)} s, ${speech.utterances} utterances`,
    );
    const emu = await spawnEmulator({});
    try {
      const one = await streamThroughEmulator(emu, 1, speech);
      for (const s of one.sessions) s.close();
      const baseLags = speechStoppedLags(
        one.sessions,
        one.starts,
        speech.chunkMs,
        0, // audio_end_ms already includes the silence (emulator default "silence_end")
      );
      await sleep(300);
      ctx.log(`streaming ${n} sessions`);
      const many = await streamThroughEmulator(emu, n, speech);
      for (const s of many.sessions) s.close();
      const lags = speechStoppedLags(
        many.sessions,
        many.starts,
        speech.chunkMs,
        0, // audio_end_ms already includes the silence (emulator default "silence_end")
      );
      const lost = lostUtterances(many.sessions, speech.utterances);
      const rows: Row[] = [
        {
          name: `capacity_ws.processing_per_audio_${n}`,
          unit: "ratio",
          samples: many.cpuRatios,
          baseline: one.cpuRatios,
          goal: { text: "p90 < 1 (keeps up)", check: (s) => s.p90 < 1 },
          note: `emulator CPU time / wall-clock audio time, per 1 s window, ${n} sessions × ${
            (speech.durationMs / 1000).toFixed(1)
          } s of speech (baseline: 1 session)`,
        },
        {
          name: `capacity_ws.speech_stopped_lag_${n}`,
          unit: "ms",
          samples: lags,
          baseline: baseLags,
          note: "VAD event arrival − send time of the audio that reveals it (baseline: 1 session)",
        },
        {
          name: `capacity_ws.lost_utterances_${n}`,
          unit: "count",
          samples: [lost],
          goal: allEqual(0),
        },
        {
          name: `capacity_ws.emulator_rss_per_session_${n}`,
          unit: "KiB",
          samples: [(many.rssBytes - one.rssBytes) / 1024 / Math.max(1, n - 1)],
          note: "emulator RSS growth from 1 to N open sessions, per session",
        },
      ];
      return rows;
    } finally {
      await emu.close();
    }
  },
};
