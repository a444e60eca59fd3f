/**
 * The page end to end: Start, live partial text styled apart from final text, final text as
 * plain text (never markup), timing/latency/language details, the screen-reader announcer, the
 * event log, Stop.
 */
import assert from "node:assert/strict";
import { makeSpeechWav } from "./speech.ts";
import { BROWSER_TEST, finalTexts, openPage } from "./page_kit.ts";
import { waitFor } from "./server.ts";

const HOSTILE = "<img src=x onerror=window.__xss=1> Hello captions & friends";

Deno.test(
  "live captions: partial then final, rendered as text, announced once final",
  BROWSER_TEST,
  async () => {
    // Speech starts after the page's turn detector runs (once the call is connected).
    const wav = await makeSpeechWav(
      "Hello there, this is a test of live captions.",
      {
        padStartSec: 3,
        padEndSec: 2,
      },
    );
    // A slow `completed` keeps the partial on screen long enough to inspect.
    const t = await openPage({
      wav: wav.path,
      emulator: { firstDeltaDelayMs: 10, completedDelayMs: 1500 },
      // The event log is for developers: it is on the page with ?debug only.
      path: "/?debug",
    });
    try {
      const { page, app } = t;
      app.emulator.control.queueTranscripts([HOSTILE]);
      assert.equal(await page.locator("#stop").isDisabled(), true);
      await page.click("#start");
      await page.waitForSelector("#status[data-state='live']", {
        timeout: 30_000,
      });
      assert.equal(await page.locator("#stop").isDisabled(), false);

      const partial = page.locator("#transcript .utterance.partial .text")
        .first();
      await partial.waitFor({ timeout: 30_000 });
      const partialStyle = await partial.evaluate((el) => getComputedStyle(el).fontStyle);
      assert.equal(partialStyle, "italic");
      assert.equal(
        await page.locator("#announcer").textContent(),
        "",
        "partial text is not announced",
      );

      await page.waitForSelector("#transcript .utterance.final", {
        timeout: 30_000,
      });
      assert.deepEqual(await finalTexts(page), [HOSTILE]);
      const final = page.locator("#transcript .utterance.final").first();
      assert.equal(
        await final.locator(".text").evaluate((el) => getComputedStyle(el).fontStyle),
        "normal",
      );
      // Shown as text: no element was made from the transcript, and nothing ran.
      assert.equal(
        await page.locator("#transcript img, #announcer img").count(),
        0,
      );
      assert.equal(
        await page.evaluate(() => (globalThis as { __xss?: number }).__xss),
        undefined,
      );
      assert.equal(await page.locator("#announcer").textContent(), HOSTILE);
      assert.equal(
        await page.locator("#announcer").getAttribute("aria-live"),
        "polite",
      );

      assert.match(
        await final.locator(".start").textContent() ?? "",
        /^\d+:\d\d$/,
      );
      assert.match(
        await final.locator(".dur").textContent() ?? "",
        /^\d+\.\d s$/,
      );
      assert.match(
        await final.locator(".lat").textContent() ?? "",
        /^latency \d+\.\d\d s$/,
      );
      assert.equal(await final.locator(".langs").textContent(), "en");
      const cls = await final.getAttribute("class") ?? "";
      assert.match(
        cls,
        /conf-(high|mid|low)/,
        "confidence shading from logprobs",
      );

      await page.click("#log-panel summary");
      const types = await page.locator("#log li b").allTextContents();
      for (
        const type of [
          "input_audio_buffer.committed",
          "conversation.item.input_audio_transcription.completed",
        ]
      ) {
        assert.ok(types.includes(type), `event log shows ${type}`);
      }
      assert.equal(
        await page.locator("#log-count").textContent(),
        String(types.length),
      );

      await page.click("#stop");
      await page.waitForSelector("#status[data-state='idle']");
      assert.equal(await page.locator("#status").textContent(), "Stopped");
      assert.equal(await page.locator("#start").isDisabled(), false);
      // The server recorded the same final line through its sideband.
      const { sessions } = await app.store.listSessions({ limit: 5 });
      assert.equal(sessions.length, 1);
      const rows = await waitFor(async () => {
        const list = await app.store.listUtterances(sessions[0].id);
        return list.some((u) => u.status === "final") ? list : null;
      });
      assert.deepEqual(
        rows.filter((u) => u.status === "final").map((u) => u.text),
        [HOSTILE],
      );
      assert.deepEqual(t.pageErrors, []);
    } finally {
      await t.close();
    }
  },
);
