/**
 * The core flow in real Chromium with `SIGNALING=relay`: the page gets no ephemeral key, its SDP
 * offer goes through the server's relay, and a spoken sentence still arrives as a final caption on
 * the page and in the server's record — with no client secret minted and no request from the page
 * to the Realtime API.
 */
import assert from "node:assert/strict";
import { launchBrowser } from "./browser.ts";
import { makeSpeechWav } from "./speech.ts";
import { startTestApp, waitFor } from "./server.ts";

const SENTENCE = "Every call goes through the server";

Deno.test({
  name: "e2e (SIGNALING=relay): spoken sentence → final caption, with no key minted or handed out",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    // Speech starts after the page's turn detector runs (once the call is connected).
    const wav = await makeSpeechWav(SENTENCE, { padStartSec: 3, padEndSec: 2.5 });
    const t = await startTestApp({
      env: { SIGNALING: "relay" },
      emulator: { firstDeltaDelayMs: 100, completedDelayMs: 300 },
    });
    let browser: Awaited<ReturnType<typeof launchBrowser>> | null = null;
    try {
      t.emulator.control.queueTranscripts([SENTENCE]);
      browser = await launchBrowser({ fakeAudioWav: wav.path, logConsole: false });
      const { page } = browser;
      const requests: string[] = [];
      const sessionAnswers: Array<Record<string, unknown>> = [];
      page.on("request", (r) => requests.push(`${r.method()} ${r.url()}`));
      page.on("response", (r) => {
        if (r.request().method() === "POST" && new URL(r.url()).pathname === "/api/session") {
          void r.json().then((body) => sessionAnswers.push(body), () => {});
        }
      });
      await page.goto(`${t.baseUrl}/`);
      await page.click("#start");
      const final = page.locator("#transcript .utterance.final", { hasText: SENTENCE });
      try {
        await final.first().waitFor({ timeout: 30_000 });
      } catch (err) {
        console.error("status:", await page.locator("#status").textContent());
        console.error("message:", await page.locator("#message").textContent());
        console.error("requests:", requests.join("\n"));
        throw err;
      }

      // The page was never given a key, and none was ever minted.
      assert.ok(sessionAnswers.length >= 1, "the page minted its session");
      for (const answer of sessionAnswers) {
        assert.equal(answer.ephemeralKey, null);
        assert.equal(answer.realtimeUrl, null);
      }
      assert.equal(t.emulator.control.state.secrets.size, 0, "no client secret minted");
      // The offer went to the server's relay; nothing went from the page to the Realtime API.
      assert.deepEqual(requests.filter((r) => r.includes(t.emulator.baseUrl)), []);
      assert.ok(requests.includes(`POST ${t.baseUrl}/api/calls`), requests.join("\n"));

      // The server knows the call and recorded the sentence from its own sideband.
      const sessions = (await t.store.listSessions({ limit: 10 })).sessions;
      const session = sessions.find((s) => s.callId !== null);
      assert.ok(session, JSON.stringify(sessions));
      const calls = t.emulator.control.calls() as unknown as Array<{ id: string }>;
      assert.deepEqual(calls.map((c) => c.id), [session.callId]);
      await waitFor(
        async () =>
          (await t.store.listUtterances(session.id)).some((u) =>
            u.status === "final" && u.text === SENTENCE
          ),
        { message: "server-side final utterance" },
      );

      // Stop hangs the call up server-side and the session ends.
      await page.click("#stop");
      await waitFor(async () => (await t.store.getSession(session.id))?.status === "ended", {
        timeoutMs: 10_000,
        message: "session ended after Stop",
      });
    } finally {
      await browser?.close();
      await t.close();
    }
  },
});
