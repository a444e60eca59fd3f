/**
 * Emulator capacity for concurrent WebRTC calls: one headless
 * Chromium page opens N peer connections (each with the fake microphone playing the same espeak
 * speech, and its own `oai-events` channel) against an emulator in its own process, which decodes
 * the Opus audio, runs its VAD and transcribes per call. Baseline: one call, same run.
 *
 * - `processing_per_audio`: emulator CPU time / wall-clock audio time per 1 s window (< 1 keeps up
 *   on Deno's single JavaScript thread);
 * - `connect`: click → data channel open, per call;
 * - lost utterances: utterances spoken minus `completed` events per call (must be 0).
 *
 * @module
 */
import type { Benchmark } from "./runner.ts";
import { allEqual, type Row } from "./stats.ts";
import { type EmulatorProcess, Resources, sleep, spawnEmulator } from "./harness.ts";
import { procSample } from "./proc.ts";
import { mintKey, PROBE_SCRIPT, type ProbeData, startBarePage } from "./browser_kit.ts";
import { launchBrowser } from "../testing/browser.ts";
import { makeUtterancesWav } from "../testing/speech.ts";
import { LOAD_TEXTS } from "./speech_audio.ts";

/**
 * Calls negotiated at once. With all 20 at once, some emulator (werift) peers stay `connecting`
 * while Chromium reports them connected, and their data channel never opens — a set-up burst
 * problem, reported separately from the steady-state capacity measured here.
 */
const SETUP_PARALLEL = 2;

interface CallsRun {
  connect: number[];
  cpuRatios: number[];
  lost: number;
  opened: number;
}

async function runCalls(
  emu: EmulatorProcess,
  count: number,
  wav: { path: string; durationMs: number; utterances: number },
): Promise<CallsRun> {
  const owned = new Resources();
  try {
    const bare = owned.use(await startBarePage());
    const browser = owned.use(await launchBrowser({ fakeAudioWav: wav.path }));
    await browser.context.addInitScript({ content: PROBE_SCRIPT });
    const page = browser.page;
    await page.goto(bare.url);
    const key = await mintKey(emu);
    await page.evaluate((cfg) => {
      (globalThis as unknown as { bareConfig: unknown }).bareConfig = cfg;
    }, {
      realtimeUrl: `${emu.baseUrl}/v1/realtime/calls`,
      key,
      count,
      micAfterOpen: true,
      parallel: SETUP_PARALLEL,
    });
    await page.click("#start");
    const probe = () =>
      page.evaluate(() => (globalThis as unknown as { __bench: ProbeData }).__bench);
    // Every call connects first (silent senders); then the microphone starts for all at once.
    await page.waitForFunction(
      (n) =>
        (globalThis as unknown as { __bench: ProbeData }).__bench.opens
          .length >= n,
      count,
      { timeout: 30_000 },
    ).catch(() => {});
    await page.waitForFunction(() => "startMic" in globalThis, null, {
      timeout: 10_000,
    }).catch(() => {});
    let last = await procSample(emu.pid);
    await page.evaluate(() =>
      (globalThis as unknown as { startMic: () => Promise<void> }).startMic()
    );
    const cpuRatios: number[] = [];
    // The fake microphone plays from getUserMedia: sample until the audio and the last
    // transcription (~1.4 s after the final commit) are done.
    const end = performance.now() + wav.durationMs + 3000;
    while (performance.now() < end) {
      await sleep(1000);
      const now = await procSample(emu.pid);
      cpuRatios.push((now.cpuMs - last.cpuMs) / (now.at - last.at));
      last = now;
      const d = await probe();
      if (
        d.completedPerChannel.length === count &&
        d.completedPerChannel.every((c) => c >= wav.utterances)
      ) break;
    }
    const data = await probe();
    const errors = await page.evaluate(() =>
      (globalThis as unknown as { bareErrors: string[] }).bareErrors
    );
    if (errors.length) throw new Error(`Bare page failed: ${errors[0]}`);
    const lost = Array.from(
      { length: count },
      (_, i) => data.completedPerChannel[i] ?? 0,
    )
      .reduce((sum, c) => sum + Math.max(0, wav.utterances - c), 0);
    await page.evaluate(() => {
      for (
        const pc of (globalThis as unknown as { peers?: RTCPeerConnection[] }).peers ??
          []
      ) pc.close();
    });
    return {
      connect: data.opens.map((t) => t - data.click!),
      cpuRatios,
      lost,
      opened: data.opens.length,
    };
  } finally {
    await owned.close();
  }
}

/** WebRTC capacity benchmark (see module doc). */
export const webrtcCapacity: Benchmark = {
  name: "capacity_webrtc",
  description: "emulator: N concurrent WebRTC calls from headless Chromium (baseline: 1 call)",
  async run(ctx) {
    const n = ctx.quick ? 5 : 20;
    const texts = LOAD_TEXTS.slice(0, ctx.quick ? 1 : 2);
    const made = await makeUtterancesWav(texts, {
      padStartSec: 1.5,
      padEndSec: 2.0,
      gapSec: 1.2,
    });
    const wav = {
      path: made.path,
      durationMs: made.durationMs,
      utterances: texts.length,
    };
    const emu = await spawnEmulator({});
    try {
      const one = await runCalls(emu, 1, wav);
      ctx.log(
        `1 call: cpu ${one.cpuRatios.map((c) => c.toFixed(2)).join(" ")}`,
      );
      const many = await runCalls(emu, n, wav);
      ctx.log(
        `${n} calls: opened ${many.opened}, cpu ${
          many.cpuRatios.map((c) => c.toFixed(2)).join(" ")
        }`,
      );
      const rows: Row[] = [
        {
          name: `capacity_webrtc.processing_per_audio_${n}`,
          unit: "ratio",
          samples: many.cpuRatios,
          baseline: one.cpuRatios,
          goal: { text: "p90 < 1 (keeps up)", check: (s) => s.p90 < 1 },
          note:
            `emulator CPU time / wall-clock time while ${n} Chromium calls stream speech (baseline: 1 call)`,
        },
        {
          name: `capacity_webrtc.connect_${n}`,
          unit: "ms",
          samples: many.connect,
          baseline: one.connect,
          note:
            `click → data channel open, ${SETUP_PARALLEL} negotiations at a time from one page (silent senders)`,
        },
        {
          name: `capacity_webrtc.calls_open_${n}`,
          unit: "count",
          samples: [many.opened],
          goal: allEqual(n),
        },
        {
          name: `capacity_webrtc.lost_utterances_${n}`,
          unit: "count",
          samples: [many.lost],
          goal: allEqual(0),
        },
      ];
      return rows;
    } finally {
      await emu.close();
    }
  },
};
