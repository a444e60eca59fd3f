/**
 * The one browser end-to-end test of the core flow: headless Chromium with a fake microphone
 * playing an espeak-ng sentence, the real page served by the app, the emulator queued with the
 * same sentence. The sentence must appear as a final line on the page AND in the server's record.
 */
import assert from "node:assert/strict";
import { launchBrowser } from "./browser.ts";
import { makeSpeechWav } from "./speech.ts";
import { startTestApp, waitFor } from "./server.ts";

const SENTENCE = "The quick brown fox jumps over the lazy dog";

Deno.test({
  name: "e2e: spoken sentence → final caption on the page and in the server's record",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    // Speech starts after the page's turn detector runs (once the call is connected).
    const wav = await makeSpeechWav(SENTENCE, {
      padStartSec: 3,
      padEndSec: 2.5,
    });
    const t = await startTestApp({
      emulator: { firstDeltaDelayMs: 100, completedDelayMs: 300 },
    });
    let browser: Awaited<ReturnType<typeof launchBrowser>> | null = null;
    try {
      t.emulator.control.queueTranscripts([SENTENCE]);
      browser = await launchBrowser({
        fakeAudioWav: wav.path,
        logConsole: false,
      });
      const { page } = browser;
      await page.goto(`${t.baseUrl}/`);
      await page.click("#start");
      const final = page.locator("#transcript .utterance.final", {
        hasText: SENTENCE,
      });
      try {
        await final.first().waitFor({ timeout: 30_000 });
      } catch (err) {
        // Say what the page and the emulator saw, so a failure explains itself.
        console.error("status:", await page.locator("#status").textContent());
        console.error("message:", await page.locator("#message").textContent());
        console.error("calls:", JSON.stringify(t.emulator.control.calls()));
        throw err;
      }

      // The server recorded the same sentence from its own sideband.
      const sessions = (await t.store.listSessions({ limit: 10 })).sessions;
      assert.equal(sessions.length, 1);
      const session = sessions[0];
      assert.match(session.callId ?? "", /^rtc_/);
      const utterances = await waitFor(async () => {
        const u = await t.store.listUtterances(session.id);
        return u.some((x) => x.status === "final" && x.text === SENTENCE) ? u : null;
      }, { message: "server-side final utterance" });
      assert.ok(utterances.length >= 1);
      const types = (await t.store.listEvents(session.id)).map((e) => e.type);
      assert.ok(types.includes("session.updated"), types.join());
      assert.ok(
        types.includes("conversation.item.input_audio_transcription.completed"),
      );

      // Stop hangs the call up server-side and the session ends.
      await page.click("#stop");
      await waitFor(
        async () => (await t.store.getSession(session.id))?.status === "ended",
        {
          timeoutMs: 10_000,
          message: "session ended after Stop",
        },
      );
      const call = t.emulator.control.calls()[0] as { state: string };
      assert.equal(call.state, "ended");
    } finally {
      await browser?.close();
      await t.close();
    }
  },
});
