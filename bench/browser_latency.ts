/**
 * Click-to-captions and speech-to-text latency, in headless Chromium against the app and an emulator in their own
 * processes (emulated REST latency 40 ms), measured with the page's own clock by
 * `PROBE_SCRIPT` (`bench/browser_kit.ts`):
 *
 * - `click`: click on Start → data channel open, and → first `session.updated` on the channel
 *   (the sideband's private settings applied: captions ready). Baseline: the bare page doing only
 *   the SDP exchange with a pre-minted key, in the same run, alternating with the app. Also counts
 *   `POST /api/session` requests issued after the click (goal 0: the key is pre-minted).
 * - `speech`: `completed` event arrival on the data channel → that line shown final on screen:
 *   the latency the page adds on top of the model's (the emulator's configured ~1.4 s).
 *
 * @module
 */
import type { Page } from "npm:playwright-core@1.65.1";
import type { Benchmark } from "./runner.ts";
import { allEqual, type Row } from "./stats.ts";
import { Resources, sleep, spawnApp, spawnEmulator } from "./harness.ts";
import { mintKey, PROBE_SCRIPT, type ProbeData, startBarePage } from "./browser_kit.ts";
import { launchBrowser } from "../testing/browser.ts";
import { makeSilenceWav, makeUtterancesWav } from "../testing/speech.ts";
import { LOAD_TEXTS } from "./speech_audio.ts";

/** REST latency the emulator adds in these benchmarks, ms. */
const REST_LATENCY_MS = 40;

function probe(page: Page): Promise<ProbeData> {
  return page.evaluate(() => (globalThis as unknown as { __bench: ProbeData }).__bench);
}

/**
 * Loads the app and hovers Start like a user about to click. The page mints its key on Start
 * (a key lives 10 s and is never minted for a visitor who does not press Start; docs/security.md),
 * so the click includes one `POST /api/session`.
 */
async function openApp(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]", { timeout: 10_000 });
  await page.hover("#start");
  await sleep(100);
}

async function stopApp(page: Page): Promise<void> {
  await page.click("#stop").catch(() => {});
  await page.waitForSelector("#status[data-state=idle]", { timeout: 10_000 })
    .catch(() => {});
}

/** Click → captions-ready benchmark (item 2). */
export const clickToCaptions: Benchmark = {
  name: "click",
  description: "Start click → data channel open / session.updated (baseline: bare SDP page)",
  async run(ctx) {
    const runs = ctx.quick ? 2 : 6;
    const owned = new Resources();
    try {
      const emu = owned.use(await spawnEmulator({}, REST_LATENCY_MS));
      const app = owned.use(await spawnApp(emu));
      const bare = owned.use(await startBarePage());
      const silence = await makeSilenceWav(3);
      const browser = owned.use(await launchBrowser({ fakeAudioWav: silence.path }));
      await browser.context.addInitScript({ content: PROBE_SCRIPT });
      const page = browser.page;
      // Mints after the click but before the SDP offer leaves are serial round trips to our server.
      let mintsAfterClick = 0;
      let clickedAt = Infinity;
      let offerSentAt = Infinity;
      page.on("request", (r) => {
        const now = performance.now();
        if (r.url().endsWith("/v1/realtime/calls") && now > clickedAt) {
          offerSentAt = Math.min(offerSentAt, now);
        }
        if (
          r.url().endsWith("/api/session") && now > clickedAt &&
          now < offerSentAt
        ) {
          mintsAfterClick++;
        }
      });
      const bareOpen: number[] = [];
      const appOpen: number[] = [];
      const appReady: number[] = [];
      const serverReady: number[] = [];
      const drainUpdates = async () =>
        (await (await fetch(`${app.baseUrl}/_bench/stats`)).json()) as {
          sessionUpdatedAt: number[];
        };
      const mints: number[] = [];
      for (let i = 0; i < runs + 1; i++) {
        // Baseline: the bare page.
        await page.goto(bare.url);
        const key = await mintKey(emu);
        await page.evaluate((cfg) => {
          (globalThis as unknown as { bareConfig: unknown }).bareConfig = cfg;
        }, { realtimeUrl: `${emu.baseUrl}/v1/realtime/calls`, key, count: 1 });
        await page.click("#start");
        await page.waitForFunction(
          () =>
            (globalThis as unknown as { __bench: ProbeData }).__bench.opens
              .length > 0,
          null,
          {
            timeout: 20_000,
          },
        );
        const b = await probe(page);
        // The app.
        await openApp(page, `${app.baseUrl}/`);
        await drainUpdates();
        mintsAfterClick = 0;
        offerSentAt = Infinity;
        clickedAt = performance.now();
        await page.click("#start");
        await page.waitForFunction(
          () => {
            const b = (globalThis as unknown as { __bench: ProbeData }).__bench;
            return b.opens.length > 0 && b.updated.length > 0;
          },
          null,
          { timeout: 20_000 },
        );
        const a = await probe(page);
        const origin = await page.evaluate(() => performance.timeOrigin);
        const [sidebandUpdated] = (await drainUpdates()).sessionUpdatedAt;
        clickedAt = Infinity;
        await stopApp(page);
        if (i === 0) continue; // warm-up round
        bareOpen.push(b.opens[0] - b.click!);
        appOpen.push(a.opens[0] - a.click!);
        appReady.push(Math.max(a.opens[0], a.updated[0]) - a.click!);
        if (sidebandUpdated !== undefined) {
          serverReady.push(Math.max(a.opens[0], sidebandUpdated - origin) - a.click!);
        }
        mints.push(mintsAfterClick);
      }
      ctx.log(`bare ${bareOpen.map((v) => v.toFixed(0)).join(", ")} ms`);
      ctx.log(`app open ${appOpen.map((v) => v.toFixed(0)).join(", ")} ms`);
      const rows: Row[] = [
        {
          name: "click.data_channel_open",
          unit: "ms",
          samples: appOpen,
          baseline: bareOpen,
          note:
            `app page: click → data channel open (baseline: bare page, SDP exchange only, pre-minted key; emulator REST latency ${REST_LATENCY_MS} ms)`,
        },
        {
          name: "click.captions_ready",
          unit: "ms",
          samples: appReady,
          baseline: bareOpen,
          note:
            "app page: click → channel open and the sideband's session.updated received on it (emulator session.updated delay 260 ms; includes the emulator's ~1 s hold of its first data-channel event after session.created, see docs/performance.md)",
        },
        {
          name: "click.captions_ready_server",
          unit: "ms",
          samples: serverReady,
          baseline: bareOpen,
          note:
            "click → channel open and the server's sideband received session.updated (wall clocks of page and app on one machine): captions-ready without the emulator's data-channel hold",
        },
        {
          name: "click.serial_mints",
          unit: "count",
          samples: mints,
          goal: allEqual(1),
          note:
            "POST /api/session requests between the click and the SDP offer (1: the key is minted on Start)",
        },
      ];
      return rows;
    } finally {
      await owned.close();
    }
  },
};

/** Speech end → final text on screen, minus the model latency (item 3). */
export const speechToText: Benchmark = {
  name: "speech",
  description: "completed on the data channel → final line on screen (page-added latency)",
  async run(ctx) {
    const loads = ctx.quick ? 1 : 2;
    const owned = new Resources();
    try {
      const emu = owned.use(await spawnEmulator({}, REST_LATENCY_MS));
      const app = owned.use(await spawnApp(emu));
      const texts = LOAD_TEXTS.slice(0, ctx.quick ? 2 : 3);
      const wav = await makeUtterancesWav(texts, {
        padStartSec: 1.0,
        padEndSec: 3.0,
        gapSec: 1.2,
      });
      const browser = owned.use(await launchBrowser({ fakeAudioWav: wav.path }));
      await browser.context.addInitScript({ content: PROBE_SCRIPT });
      const page = browser.page;
      const added: number[] = [];
      let missing = 0;
      for (let i = 0; i < loads; i++) {
        await openApp(page, `${app.baseUrl}/`);
        await page.click("#start");
        const deadline = performance.now() + wav.durationMs + 8000;
        let data = await probe(page);
        while (
          performance.now() < deadline &&
          Object.keys(data.finalShown).length < texts.length
        ) {
          await sleep(200);
          data = await probe(page);
        }
        await stopApp(page);
        for (const [item, at] of Object.entries(data.completed)) {
          const shown = data.finalShown[item];
          if (shown === undefined) missing++;
          else added.push(shown - at);
        }
        missing += Math.max(
          0,
          texts.length - Object.keys(data.completed).length,
        );
      }
      ctx.log(`added ${added.map((v) => v.toFixed(1)).join(", ")} ms`);
      return [
        {
          name: "speech.final_render_added",
          unit: "ms",
          samples: added,
          note:
            "completed event arrival on the data channel → line shown final with text (the model latency itself, ~1.4 s in the emulator, is excluded)",
        },
        {
          name: "speech.utterances_not_shown",
          unit: "count",
          samples: [missing],
          goal: allEqual(0),
        },
      ];
    } finally {
      await owned.close();
    }
  },
};
