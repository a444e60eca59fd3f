import { openPage } from "./page_kit.ts";
import { makeSpeechWav } from "./speech.ts";
const wav = await makeSpeechWav("Probe.", { padStartSec: 1, padEndSec: 1 });
let ok = 0, bad = 0;
for (let i = 0; i < 5; i++) {
  const t = await openPage({ logConsole: true, wav: wav.path, env: { RATE_MINTS_PER_MINUTE_PER_IP: "1000" } });
  try {
    const { page } = t;
    await page.evaluate(() => {
      const O = RTCPeerConnection;
      // deno-lint-ignore no-explicit-any
      (globalThis as any).RTCPeerConnection = function (...a: any[]) {
        // deno-lint-ignore no-explicit-any
        const pc = new (O as any)(...a);
        pc.addEventListener("icecandidate", (e: RTCPeerConnectionIceEvent) => console.log("CAND", e.candidate?.candidate ?? "end"));
        pc.addEventListener("iceconnectionstatechange", () => console.log("ICE", pc.iceConnectionState));
        return pc;
      };
    });
    const logs: string[] = [];
    page.on("console", (m) => logs.push(m.text()));
    const t0 = Date.now();
    await page.click("#start");
    try {
      await page.waitForSelector("#status[data-state='live']", { timeout: 25_000 });
      ok++;
      console.log("OK", Date.now() - t0);
    } catch {
      bad++;
      console.log("BAD", logs.join("\n"));
    }
  } finally { await t.close(); }
}
console.log({ ok, bad });
