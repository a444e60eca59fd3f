/**
 * Issue #8 item 3 in headless Chromium: when ICE fails the page reconnects with a new call that
 * continues the same transcript and the same stored session; before the session's time limit
 * (emulator `sessionMaxSeconds: 8`, standing in for 60 minutes) it rotates to a new call so the
 * captions continue, and says how long the handover gap was. The status is visible throughout.
 */
import assert from "node:assert/strict";
import { finalTexts } from "./page_kit.ts";
import { waitFor } from "./server.ts";
import {
  calls,
  fakeConnectionState,
  openResilientPage,
  openSpeaker,
  waitForActiveCall,
} from "./resilience_kit.ts";

const T = { sanitizeResources: false, sanitizeOps: false } as const;

Deno.test(
  "ICE failure: the page reconnects on a new call, same transcript, same stored session",
  T,
  async () => {
    const t = await openResilientPage();
    try {
      const { page, app } = t;
      const emu = app.emulator;
      await page.click("#start");
      await page.waitForSelector("#status[data-state='live']", { timeout: 30_000 });
      const call1 = await waitForActiveCall(emu);
      const [session] = (await app.store.listSessions({ limit: 5 })).sessions;
      let speaker = await openSpeaker(emu, call1);
      await speaker.say("before the network problem");
      await speaker.close();
      await page.locator("#transcript .utterance.final", { hasText: "before the network problem" })
        .waitFor({ timeout: 10_000 });

      // A short "disconnected" that recovers within the grace period changes nothing.
      await fakeConnectionState(page, "disconnected");
      await page.waitForSelector("#status[data-state='starting']");
      await new Promise((r) => setTimeout(r, 500));
      await fakeConnectionState(page, "connected");
      await page.waitForSelector("#status[data-state='live']");
      await new Promise((r) => setTimeout(r, 4500));
      assert.deepEqual(calls(emu).map((c) => c.id), [call1], "no reconnect after a recovered blip");

      // The browser's view of the network breaks: ICE reports "failed".
      await fakeConnectionState(page, "failed");
      const statusTexts: string[] = [];
      const call2 = await waitFor(async () => {
        statusTexts.push(await page.locator("#status").textContent() ?? "");
        return calls(emu).find((c) => c.id !== call1 && c.state === "active")?.id;
      }, { timeoutMs: 30_000, message: "a second call" });
      await page.waitForSelector("#status[data-state='live']", { timeout: 30_000 });
      assert.ok(
        statusTexts.some((s) => /reconnect/i.test(s)),
        `status while reconnecting: ${statusTexts.join(" | ")}`,
      );
      assert.match(
        await page.locator("#message").textContent() ?? "",
        /dropped and was restored.*\d+\.\d s/,
      );

      speaker = await openSpeaker(emu, call2);
      await speaker.say("after reconnecting");
      await speaker.close();
      await page.locator("#transcript .utterance.final", { hasText: "after reconnecting" })
        .waitFor({ timeout: 10_000 });
      assert.deepEqual(await finalTexts(page), [
        "before the network problem",
        "after reconnecting",
      ]);

      // One stored session, now on call 2, holding both utterances; call 1 was let go.
      assert.equal((await app.store.listSessions({ limit: 5 })).sessions.length, 1);
      const row = await app.store.getSession(session.id);
      assert.equal(row?.callId, call2);
      assert.equal(row?.status, "live");
      const texts = await waitFor(async () => {
        const list = (await app.store.listUtterances(session.id)).map((u) => u.text);
        return list.includes("after reconnecting") ? list : null;
      });
      assert.ok(texts.includes("before the network problem"), texts.join());
      await waitFor(() => calls(emu).find((c) => c.id === call1)?.state === "ended", {
        message: "the lost call was hung up",
      });

      await page.click("#stop");
      await page.waitForSelector("#status[data-state='idle']", { timeout: 30_000 });
      await waitFor(async () => (await app.store.getSession(session.id))?.status === "ended");
      assert.deepEqual(t.pageErrors, []);
    } finally {
      await t.close();
    }
  },
);

Deno.test(
  "session limit: the page rotates to a new call before expiry and captions continue",
  T,
  async () => {
    const t = await openResilientPage({ emulator: { sessionMaxSeconds: 8 } });
    try {
      const { page, app } = t;
      const emu = app.emulator;
      await page.click("#start");
      await page.waitForSelector("#status[data-state='live']", { timeout: 30_000 });
      const call1 = await waitForActiveCall(emu);
      const [session] = (await app.store.listSessions({ limit: 5 })).sessions;
      let speaker = await openSpeaker(emu, call1);
      await speaker.say("on the first call");
      await speaker.close();

      // About 1.6 s before the 8 s limit the page moves to a new call, then lets the old one go.
      const call2 = await waitFor(
        () => calls(emu).find((c) => c.id !== call1 && c.state === "active")?.id,
        { timeoutMs: 15_000, message: "a second call before the limit" },
      );
      await waitFor(() => calls(emu).find((c) => c.id === call1)?.state === "ended", {
        timeoutMs: 15_000,
        message: "old call let go",
      });
      const ended = calls(emu).find((c) => c.id === call1) as unknown as { endedReason: string };
      assert.notEqual(ended.endedReason, "expired", "the old call expired before the rotation");
      await page.waitForSelector("#status[data-state='live']", { timeout: 10_000 });
      assert.match(
        await page.locator("#message").textContent() ?? "",
        /Switched to a new call.*gap \d+\.\d s/,
      );

      speaker = await openSpeaker(emu, call2);
      await speaker.say("on the second call");
      await speaker.close();
      await page.locator("#transcript .utterance.final", { hasText: "on the second call" })
        .waitFor({ timeout: 10_000 });
      assert.deepEqual(await finalTexts(page), ["on the first call", "on the second call"]);

      const row = await app.store.getSession(session.id);
      assert.equal(row?.status, "live");
      assert.equal(row?.callId, call2);
      const texts = await waitFor(async () => {
        const list = (await app.store.listUtterances(session.id)).map((u) => u.text);
        return list.includes("on the second call") ? list : null;
      });
      assert.ok(texts.includes("on the first call"), texts.join());
      assert.equal((await app.store.listSessions({ limit: 5 })).sessions.length, 1);

      await page.click("#stop");
      await page.waitForSelector("#status[data-state='idle']", { timeout: 30_000 });
      assert.deepEqual(t.pageErrors, []);
    } finally {
      await t.close();
    }
  },
);
