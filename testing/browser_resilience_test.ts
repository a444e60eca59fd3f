/**
 * Call hand-overs in headless Chromium: when ICE fails the page reconnects with a new call that
 * continues the same transcript and the same stored session; before the session's time limit
 * (emulator `sessionMaxSeconds: 8`, standing in for 60 minutes) it rotates to a new call so the
 * captions continue, and says how long the handover gap was. The status is visible throughout.
 */
import assert from "node:assert/strict";
import type { Page } from "npm:playwright-core@1.65.1";
import { finalTexts } from "./page_kit.ts";
import { waitFor } from "./server.ts";
import {
  calls,
  dropSidebandsExcept,
  fakeConnectionState,
  openResilientPage,
  openSpeaker,
  type ResilientApp,
  waitForActiveCall,
} from "./resilience_kit.ts";

const T = { sanitizeResources: false, sanitizeOps: false } as const;

type Times = Record<string, [number | null, number | null]>;

/** Presses Start, waits until live, and says `text` on the first call. */
async function startAndSay(t: { page: Page; app: ResilientApp }, text: string) {
  await t.page.click("#start");
  await t.page.waitForSelector("#status[data-state='live']", { timeout: 30_000 });
  const call1 = await waitForActiveCall(t.app.emulator);
  const [session] = (await t.app.store.listSessions({ limit: 5 })).sessions;
  const speaker = await openSpeaker(t.app.emulator, call1);
  await speaker.say(text);
  await speaker.close();
  return { call1, session };
}

/** Start and end of every final line, by item id, from the page's own JSON export. */
async function pageTimes(page: Page): Promise<Times> {
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.click("[data-export='json']"),
  ]);
  const doc = JSON.parse(await Deno.readTextFile(await download.path()));
  return Object.fromEntries(
    doc.utterances.map((u: { itemId: string; startMs: number; endMs: number }) => [
      u.itemId,
      [u.startMs, u.endMs],
    ]),
  );
}

/**
 * After a hand-over the page shows the Store's session-relative times (it takes the call's offset
 * from the server), and call 2's line starts after call 1's ended.
 */
async function assertPageAgreesWithStore(page: Page, app: ResilientApp, sessionId: string) {
  const stored = async (): Promise<Times> =>
    Object.fromEntries(
      (await app.store.listUtterances(sessionId)).filter((u) => u.status === "final")
        .map((u) => [u.itemId, [u.startMs, u.endMs]]),
    );
  let last: [Times, Times] = [{}, {}];
  await waitFor(async () => {
    last = [await pageTimes(page), await stored()];
    return JSON.stringify(last[0]) === JSON.stringify(last[1]);
  }, { timeoutMs: 10_000, message: "the page's times equal the stored ones" })
    .catch(() => assert.deepEqual(last[0], last[1]));
  const [first, second] = Object.values(last[1]);
  assert.equal(Object.keys(last[1]).length, 2);
  assert.ok(second[0]! > first[1]!, `call 2's line ${second} overlaps call 1's ${first}`);
}

Deno.test(
  "ICE failure: the page reconnects on a new call, same transcript, same stored session",
  T,
  async () => {
    const t = await openResilientPage();
    try {
      const { page, app } = t;
      const emu = app.emulator;
      const { call1, session } = await startAndSay(t, "before the network problem");
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

      const speaker = await openSpeaker(emu, call2);
      await speaker.say("after reconnecting");
      await speaker.close();
      await page.locator("#transcript .utterance.final", { hasText: "after reconnecting" })
        .waitFor({ timeout: 10_000 });
      assert.deepEqual(await finalTexts(page), [
        "before the network problem",
        "after reconnecting",
      ]);
      await assertPageAgreesWithStore(page, app, session.id);

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
      const { call1, session } = await startAndSay(t, "on the first call");

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

      const speaker = await openSpeaker(emu, call2);
      await speaker.say("on the second call");
      await speaker.close();
      await page.locator("#transcript .utterance.final", { hasText: "on the second call" })
        .waitFor({ timeout: 10_000 });
      assert.deepEqual(await finalTexts(page), ["on the first call", "on the second call"]);
      await assertPageAgreesWithStore(page, app, session.id);

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

Deno.test(
  "gap repair after a hand-over: a line only the page saw is stored on the session's clock",
  T,
  async () => {
    const t = await openResilientPage();
    try {
      const { page, app } = t;
      const emu = app.emulator;
      const { call1, session } = await startAndSay(t, "heard on call one");
      // The speaker's audio goes in faster than real time, so call 1's audio clock is ~1.2 s ahead
      // of the wall clock (a microphone's cannot be): let the wall clock catch up first.
      await new Promise((r) => setTimeout(r, 1500));
      await fakeConnectionState(page, "failed");
      const call2 = await waitForActiveCall(emu, [call1]);
      await page.waitForSelector("#status[data-state='live']", { timeout: 30_000 });
      await waitFor(async () => (await app.store.getSession(session.id))?.callId === call2);
      await waitFor(() => app.sidebands.get(call2) !== undefined, { message: "sideband 2" });

      // Call 2's sideband is cut and cannot come back: only the page hears the next line.
      const speaker = await openSpeaker(emu, call2);
      emu.control.faults.refuseSidebandAttaches = 1000;
      assert.equal(dropSidebandsExcept(emu, call2, [speaker.sinkId]), 1);
      await speaker.say("only the page heard this");
      await speaker.close();
      await page.locator("#transcript .utterance.final", { hasText: "only the page heard this" })
        .waitFor({ timeout: 10_000 });
      const shown = await pageTimes(page);
      await page.click("#stop");
      await page.waitForSelector("#status[data-state='idle']", { timeout: 30_000 });

      const rows = await waitFor(async () => {
        const list = await app.store.listUtterances(session.id);
        return list.some((u) => u.seenBy === "browser") ? list : null;
      }, { message: "the page's report merged" });
      const [one, only] = rows;
      assert.deepEqual(rows.map((u) => [u.text, u.seenBy]), [
        ["heard on call one", "both"],
        ["only the page heard this", "browser"],
      ]);
      const offset = (await app.store.listCalls(session.id)).find((c) => c.callId === call2)!
        .offsetMs;
      assert.ok(offset > 0);
      // Stored as the page showed it: call 2's own clock plus the call's offset, after call 1.
      assert.deepEqual([only.startMs, only.endMs], shown[only.itemId]);
      assert.ok(only.startMs! > one.endMs!, `${only.startMs} is not after ${one.endMs}`);
      assert.deepEqual(t.pageErrors, []);
    } finally {
      await t.close();
    }
  },
);
