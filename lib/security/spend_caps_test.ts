/**
 * Spend caps that need a real call: Chromium speaks into the page, the emulator runs the call, and
 * the server's sideband must hang up at the maximum session length, record why, and charge the
 * daily minutes budget.
 */
import assert from "node:assert/strict";
import { startTestApp, waitFor } from "../../testing/server.ts";
import { launchBrowser } from "../../testing/browser.ts";
import { makeSpeechWav } from "../../testing/speech.ts";

Deno.test({
  name: "app: the server hangs up at the maximum session length and the page says why",
  // werift's SRTP ciphers (node:crypto) are released by GC, not closed.
  sanitizeResources: false,
  // Chromium's peer runs on werift in the emulator, whose internal timers outlive close().
  sanitizeOps: false,
}, async () => {
  const wav = await makeSpeechWav("testing the maximum session length", {
    padStartSec: 0.5,
    padEndSec: 8,
  });
  const t = await startTestApp();
  // MAX_SESSION_SECONDS has a floor of 10 s in the environment; the test shortens it in config.
  t.deps.config.limits.maxSessionSeconds = 2;
  const b = await launchBrowser({ fakeAudioWav: wav.path });
  try {
    await b.page.goto(`${t.baseUrl}/`);
    await b.page.click("#start");
    const live = await waitFor(async () => {
      const s = (await t.store.listSessions({ limit: 1 })).sessions[0];
      return s?.status === "live" ? s : null;
    }, { timeoutMs: 15_000, message: "the session went live" });
    const ended = await waitFor(async () => {
      const s = await t.store.getSession(live.id);
      return s && s.status !== "live" ? s : null;
    }, { timeoutMs: 15_000, message: "the session ended" });
    assert.equal(ended.status, "ended");
    assert.equal(ended.endReason, "max_duration");
    const duration = (ended.endedAt ?? 0) - (ended.startedAt ?? 0);
    assert.ok(duration >= 2000, `ended after ${duration} ms`);
    const call = t.emulator.control.calls().find((c) => c.id === ended.callId);
    assert.ok(call, "the emulator saw the call");
    assert.equal(call.state, "ended");
    assert.match(String(call.endedReason ?? ""), /hangup/i);
    const used = await t.store.readCounter("usage-seconds:*", 86_400_000);
    assert.ok(used >= 2, `charged ${used} s to today's budget`);
    try {
      await waitFor(
        async () => /maximum length/.test(await b.page.locator("#message").innerText()),
        {
          timeoutMs: 40_000,
          message: "the page explains the maximum length",
        },
      );
    } catch (err) {
      const status = await b.page.locator("#status").innerText();
      const message = await b.page.locator("#message").innerText();
      throw new Error(
        `${(err as Error).message}; status "${status}", message "${message}"`,
      );
    }
  } finally {
    await b.close();
    await t.close();
  }
});
