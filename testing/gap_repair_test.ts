/**
 * Gap repair end to end in headless Chromium: the server's sideband is dropped and every
 * re-attach refused while one utterance is spoken, so only the page sees it. When the person
 * presses Stop the page reports the finals it saw, and the stored transcript has no hole: the
 * missing utterance is merged in its spoken place, marked as seen only by the browser.
 */
import assert from "node:assert/strict";
import { makeSilenceWav } from "./speech.ts";
import { BROWSER_TEST, finalTexts, openPage } from "./page_kit.ts";
import { waitFor } from "./server.ts";
import { dropSidebandsExcept, openSpeaker, waitForActiveCall } from "./resilience_kit.ts";

Deno.test(
  "gap repair: an utterance the sideband missed is filled in from the page's report",
  BROWSER_TEST,
  async () => {
    const wav = await makeSilenceWav(30);
    // The Speaker's turns end by server VAD (the page's fake microphone is silent).
    const t = await openPage({ wav: wav.path, env: { TRANSCRIPTION_MODEL: "gpt-transcribe" } });
    try {
      const { page, app } = t;
      const emu = app.emulator;
      await page.click("#start");
      await page.waitForSelector("#status[data-state='live']", { timeout: 30_000 });
      const callId = await waitForActiveCall(emu);
      const [session] = (await app.store.listSessions({ limit: 1 })).sessions;
      await waitFor(async () => (await app.store.getSession(session.id))?.status === "live");
      const stored = async () => await app.store.listUtterances(session.id);
      const speaker = await openSpeaker(emu, callId);

      // 1. Heard by both.
      await speaker.say("first, heard by both");
      await waitFor(async () => (await stored()).some((u) => u.text === "first, heard by both"), {
        message: "first utterance stored by the sideband",
      });

      // 2. The sideband is cut and cannot come back while this utterance is spoken.
      emu.control.faults.refuseSidebandAttaches = 1000;
      assert.equal(dropSidebandsExcept(emu, callId, [speaker.sinkId]), 1);
      await speaker.say("second, only the page saw this");
      await page.locator("#transcript .utterance.final", {
        hasText: "second, only the page saw this",
      }).waitFor({ timeout: 10_000 });
      assert.ok(!(await stored()).some((u) => u.text === "second, only the page saw this"));

      // 3. Attaches work again (the server may or may not be back: the page reports either way).
      emu.control.faults.refuseSidebandAttaches = 0;
      await speaker.say("third, after the gap");
      await page.locator("#transcript .utterance.final", { hasText: "third, after the gap" })
        .waitFor({ timeout: 10_000 });

      await speaker.close();
      await page.click("#stop");
      await page.waitForSelector("#status[data-state='idle']", { timeout: 30_000 });
      const expected = [
        "first, heard by both",
        "second, only the page saw this",
        "third, after the gap",
      ];
      assert.deepEqual(await finalTexts(page), expected);
      const rows = await waitFor(async () => {
        const list = await stored();
        return list.filter((u) => u.status === "final").length === 3 ? list : null;
      }, { message: "the page's report merged", timeoutMs: 10_000 });
      assert.deepEqual(rows.map((u) => u.text), expected);
      assert.equal(rows[0].seenBy, "both");
      assert.equal(rows[1].seenBy, "browser");
      assert.notEqual(rows[2].seenBy, undefined);
      assert.deepEqual(t.pageErrors, []);
    } finally {
      await t.close();
    }
  },
);
