/**
 * Every fault kind the emulator offers, checked on the page (headless Chromium)
 * AND in the store. REST faults: `client_secrets` / `calls` / `hangup` / `sideband` failures
 * (transient ones are retried where that is safe, persistent ones are explained), latency, a
 * hidden `Location` header. Call faults: dropped sidebands, refused sideband attaches, failed
 * transcriptions, out-of-order `completed`, an expired session.
 *
 * Utterances are spoken into the call by a second connection (`openSpeaker`), so the fake
 * microphone stays silent and each fault hits a known utterance.
 */
import assert from "node:assert/strict";
import type { Page } from "npm:playwright-core@1.65.1";
import { finalTexts } from "./page_kit.ts";
import { waitFor } from "./server.ts";
import {
  openResilientPage,
  openSpeaker,
  type ResilientApp,
  setFaults,
  waitForActiveCall,
} from "./resilience_kit.ts";

const T = { sanitizeResources: false, sanitizeOps: false } as const;

async function startLive(page: Page, step: string): Promise<void> {
  await page.click("#start");
  try {
    await page.waitForSelector("#status[data-state='live']", { timeout: 30_000 });
  } catch (err) {
    const message = await page.locator("#message").textContent();
    throw new Error(`${step}: not live; the page says "${message}"`, { cause: err });
  }
}

async function stopIdle(page: Page): Promise<void> {
  await page.click("#stop");
  await page.waitForSelector("#status[data-state='idle']", { timeout: 30_000 });
}

/** Start that must fail: returns the page's message. */
async function failedStart(page: Page): Promise<string> {
  await page.click("#start");
  const message = page.locator("#message");
  await message.waitFor({ state: "visible", timeout: 30_000 });
  await page.waitForSelector("#status[data-state='idle']");
  return await message.textContent() ?? "";
}

async function sessions(app: ResilientApp) {
  return (await app.store.listSessions({ limit: 100 })).sessions;
}

async function newestSession(app: ResilientApp) {
  return (await sessions(app))[0];
}

Deno.test(
  "faults at start and stop: retried where safe, otherwise explained; the store agrees",
  T,
  async () => {
    const t = await openResilientPage({ env: { RATE_MINTS_PER_MINUTE_PER_IP: "1000" } });
    try {
      const { page, app } = t;
      const emu = app.emulator;

      // client_secrets 503 once: the server retries the mint; the person notices nothing.
      emu.control.failRest({ endpoint: "client_secrets", status: 503, count: 1 });
      await startLive(page, "mint retried");
      assert.equal(emu.control.faults.rest.length, 0, "the failure was consumed");
      await stopIdle(page);
      assert.equal((await sessions(app)).length, 1);
      await waitFor(async () => (await newestSession(app)).status === "ended");

      // client_secrets 500 every time: a clear error, and no session is recorded.
      emu.control.failRest({ endpoint: "client_secrets", status: 500, count: 10 });
      let text = await failedStart(page);
      // One plain sentence; the upstream status stays in the technical details.
      assert.match(
        text,
        /^The transcription service is not answering right now\..*Technical details.*500/,
      );
      assert.equal((await sessions(app)).length, 1, "a failed mint records nothing");
      emu.control.faults.clear();

      // calls 429 once (the page posts the SDP to OpenAI itself): retried after Retry-After.
      emu.control.failRest({ endpoint: "calls", status: 429, count: 1 });
      await startLive(page, "calls 429 retried");
      assert.equal(emu.control.faults.rest.length, 0);
      await waitFor(async () => (await newestSession(app)).status === "live");
      await stopIdle(page);

      // calls 500: not retried (the call may exist); explained; the session never went live.
      emu.control.failRest({ endpoint: "calls", status: 500, count: 1 });
      text = await failedStart(page);
      assert.match(text, /500/);
      let row = await newestSession(app);
      assert.notEqual(row.status, "live");
      assert.equal(row.callId, null);

      // Latency on every REST answer and sideband handshake: slower, still works.
      await setFaults(emu, { latencyMs: 300 });
      await startLive(page, "with latency");
      const callId = await waitForActiveCall(emu);
      await waitFor(async () => (await newestSession(app)).status === "live", {
        timeoutMs: 10_000,
      });
      await setFaults(emu, { latencyMs: 0 });

      // hangup 500 once: Stop still ends the call (hanging up is retried).
      emu.control.failRest({ endpoint: "hangup", status: 500, count: 1 });
      await stopIdle(page);
      await waitFor(() => emu.control.calls().find((c) => c.id === callId)?.state === "ended", {
        message: "call hung up despite the 500",
      });
      row = await newestSession(app);
      await waitFor(async () => (await app.store.getSession(row.id))?.status === "ended");

      // Location hidden from the page: it falls back to the server relay; recording works.
      await setFaults(emu, { exposeLocation: false });
      await startLive(page, "relay fallback");
      const relayed = await waitForActiveCall(emu, [callId]);
      row = await newestSession(app);
      await waitFor(async () => (await app.store.getSession(row.id))?.callId === relayed);
      const speaker = await openSpeaker(emu, relayed);
      await speaker.say("through the relay");
      await speaker.close();
      await page.locator("#transcript .utterance.final", { hasText: "through the relay" })
        .waitFor({ timeout: 10_000 });
      await waitFor(async () =>
        (await app.store.listUtterances(row.id)).some((u) => u.text === "through the relay")
      );
      await stopIdle(page);
      assert.deepEqual(t.pageErrors, []);
    } finally {
      await t.close();
    }
  },
);

Deno.test(
  "faults during a call: drops, refused attaches, failed and out-of-order transcriptions, expiry",
  T,
  async () => {
    const t = await openResilientPage();
    try {
      const { page, app } = t;
      const emu = app.emulator;
      await startLive(page, "during a call");
      const callId = await waitForActiveCall(emu);
      const session = await newestSession(app);
      await waitFor(async () => (await app.store.getSession(session.id))?.status === "live");
      const stored = async () => await app.store.listUtterances(session.id);
      const attached = () =>
        (emu.control.calls().find((c) => c.id === callId) as { sidebands: string[] }).sidebands;
      let speaker = await openSpeaker(emu, callId);
      await speaker.say("before any fault");

      // Every sideband dropped (1011): the server reconnects; the page never noticed.
      await setFaults(emu, { dropSidebands: callId });
      await waitFor(() => attached().length >= 1, { message: "server sideband back" });
      speaker = await openSpeaker(emu, callId);
      await speaker.say("after a drop");

      // Dropped again and the next two re-attaches fail (503, then 404): retried until it attaches.
      await setFaults(emu, {
        rest: [{ endpoint: "sideband", status: 503, count: 1 }],
        refuseSidebandAttaches: 1,
      });
      await setFaults(emu, { dropSidebands: callId });
      await waitFor(
        () => attached().length >= 1 && emu.control.faults.refuseSidebandAttaches === 0,
        {
          message: "server sideband back after refusals",
        },
      );
      speaker = await openSpeaker(emu, callId);
      await speaker.say("after refused attaches");

      // A failed transcription is shown on its own line, and stored as failed.
      await setFaults(emu, { failTranscriptions: 1 });
      await speaker.say("this one fails", { queue: false });
      const failed = page.locator("#transcript .utterance.failed");
      await failed.first().waitFor({ timeout: 10_000 });
      assert.match(await failed.first().textContent() ?? "", /Transcription failed/);
      await waitFor(async () => (await stored()).some((u) => u.status === "failed"), {
        message: "failed utterance stored",
      });

      // `completed` out of order: page and store both keep spoken order.
      await setFaults(emu, { outOfOrderCompleted: true });
      await speaker.say(["first of a pair", "second of a pair"]);
      await setFaults(emu, { outOfOrderCompleted: false });
      const expected = [
        "before any fault",
        "after a drop",
        "after refused attaches",
        "first of a pair",
        "second of a pair",
      ];
      await waitFor(async () => (await finalTexts(page)).length === expected.length, {
        message: "all finals on the page",
      });
      assert.deepEqual(await finalTexts(page), expected);
      const finals = await waitFor(async () => {
        const list = (await stored()).filter((u) => u.status === "final");
        return list.length === expected.length ? list : null;
      }, { message: "all finals stored" });
      assert.deepEqual(finals.map((u) => u.text), expected);
      assert.ok(finals.every((u) => u.seenBy !== "browser"), "the server saw every utterance");
      assert.equal((await app.store.getSession(session.id))?.status, "live");
      await speaker.close();

      // The session expires (no rotation in time): the page says so; the store agrees.
      await setFaults(emu, { expireSessions: callId });
      await page.waitForSelector("#status[data-state='idle']", { timeout: 30_000 });
      assert.match(
        await page.locator("#message").textContent() ?? "",
        /ended the session|maximum length|limit/,
      );
      await waitFor(async () => (await app.store.getSession(session.id))?.status === "ended");
      assert.equal((await app.store.getSession(session.id))?.endReason, "session_expired");
      assert.deepEqual(t.pageErrors, []);
    } finally {
      await t.close();
    }
  },
);
