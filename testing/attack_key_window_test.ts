/**
 * Direct mode's exposure: a minted key can start calls the server never sees until it expires,
 * so the page mints on Start (never on hover or focus) and the key's default lifetime is the
 * API's minimum. Measured in Chromium: the time from the click and from the mint's answer to the
 * SDP offer leaving (printed for docs/security.md; never asserted: timings belong in bench/).
 */
import assert from "node:assert/strict";
import { BROWSER_TEST, openPage } from "./page_kit.ts";
import { makeSilenceWav } from "./speech.ts";
import { loadConfig } from "../lib/config.ts";

Deno.test(
  "attack: the page mints no key before Start, and uses it at once",
  BROWSER_TEST,
  async () => {
    assert.equal((await loadConfig({})).ephemeralKeyTtlSeconds, 10, "the default is the minimum");
    const wav = await makeSilenceWav(4);
    const t = await openPage({ wav: wav.path });
    try {
      const { page } = t;
      const seen: Array<{ what: string; at: number }> = [];
      page.on("request", (r) => {
        if (r.url().endsWith("/api/session")) seen.push({ what: "mint", at: performance.now() });
        if (r.url().endsWith("/v1/realtime/calls")) {
          seen.push({ what: "sdp", at: performance.now() });
        }
      });
      page.on("response", (r) => {
        if (r.url().endsWith("/api/session")) seen.push({ what: "key", at: performance.now() });
      });
      // What used to pre-mint: hovering and focusing Start.
      await page.hover("#start");
      await page.focus("#start");
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(seen.length, 0, "nothing minted before Start");
      const clicked = performance.now();
      await page.click("#start");
      await page.waitForSelector("#status[data-state='live']", { timeout: 30_000 });
      const at = (what: string) => seen.find((s) => s.what === what)?.at ?? NaN;
      assert.ok(at("mint") >= clicked && at("key") <= at("sdp"), JSON.stringify(seen));
      console.log(
        `click → key ${Math.round(at("key") - clicked)} ms; key → SDP offer ${
          Math.round(at("sdp") - at("key"))
        } ms; click → SDP offer ${Math.round(at("sdp") - clicked)} ms`,
      );
      await page.click("#stop");
    } finally {
      await t.close();
    }
  },
);
