/**
 * Reproduces the emulator's data-channel hold without the app: a bare Chromium page opens a call
 * with a pre-minted key, this script attaches a sideband (standard key) and sends
 * `session.update`, then compares when `session.updated` reaches the sideband and the data channel
 * (wall clocks of one machine), for the first event after `session.created` and a few later ones.
 * Not part of `deno task bench`; it backs a remark in docs/performance.md:
 *
 * ```sh
 * npx -y deno@2.7.5 run -A bench/datachannel_hold.ts
 * ```
 *
 * @module
 */
import type { Page } from "npm:playwright-core@1.65.1";
import { sleep, spawnEmulator } from "./harness.ts";
import { mintKey, PROBE_SCRIPT, startBarePage } from "./browser_kit.ts";
import { launchBrowser } from "../testing/browser.ts";
import { makeSilenceWav } from "../testing/speech.ts";

const RUNS = 3;
const LATER = 3;

/** Wall-clock time at which the page's `__benchChannels[0]` next receives `session.updated`. */
function nextUpdateOnChannel(page: Page): Promise<number> {
  return page.evaluate(() =>
    new Promise<number>((resolve) => {
      const ch = (globalThis as unknown as { __benchChannels: RTCDataChannel[] })
        .__benchChannels[0];
      const on = (m: MessageEvent) => {
        if (String(m.data).includes('"session.updated"')) {
          ch.removeEventListener("message", on);
          resolve(performance.timeOrigin + performance.now());
        }
      };
      ch.addEventListener("message", on);
    })
  );
}

if (import.meta.main) {
  const emu = await spawnEmulator({});
  const bare = await startBarePage();
  const silence = await makeSilenceWav(3);
  const browser = await launchBrowser({ fakeAudioWav: silence.path });
  try {
    await browser.context.addInitScript({ content: PROBE_SCRIPT });
    const page = browser.page;
    for (let run = 0; run < RUNS; run++) {
      await page.goto(bare.url);
      let callId = "";
      page.on("response", (r) => {
        const location = r.headers()["location"];
        if (location) callId = location.split("/").pop() ?? "";
      });
      await page.evaluate((cfg) => {
        (globalThis as unknown as { bareConfig: unknown }).bareConfig = cfg;
      }, {
        realtimeUrl: `${emu.baseUrl}/v1/realtime/calls`,
        key: await mintKey(emu),
        count: 1,
      });
      await page.click("#start");
      await page.waitForFunction(() =>
        (globalThis as unknown as { __bench: { opens: number[] } }).__bench.opens.length > 0
      );
      page.removeAllListeners("response");
      const ws = new WebSocket(
        `${emu.baseUrl.replace(/^http/, "ws")}/v1/realtime?call_id=${callId}`,
        { headers: { Authorization: `Bearer ${emu.apiKey}` } } as unknown as string[],
      );
      await new Promise((r) => ws.onopen = r);
      const line: string[] = [];
      for (let k = 0; k <= LATER; k++) {
        const onChannel = nextUpdateOnChannel(page);
        const sent = performance.timeOrigin + performance.now();
        const onSideband = new Promise<number>((resolve) => {
          ws.onmessage = (m) => {
            if (String(m.data).includes('"session.updated"')) {
              resolve(performance.timeOrigin + performance.now());
            }
          };
        });
        ws.send(JSON.stringify({ type: "session.update", session: { type: "transcription" } }));
        const [sb, dc] = await Promise.all([onSideband, onChannel]);
        line.push(
          `${k === 0 ? "first" : `later ${k}`}: sideband ${(sb - sent).toFixed(0)} ms, ` +
            `data channel ${(dc - sent).toFixed(0)} ms`,
        );
        await sleep(500);
      }
      console.log(`run ${run + 1}: ${line.join(" · ")}`);
      ws.close();
    }
  } finally {
    await browser.close();
    await bare.close();
    await emu.close();
  }
}
