/**
 * Failures the person can act on: denied permission, no microphone, network failure, upstream
 * errors (with 429 Retry-After), a sideband the server could not attach, and a session the server
 * side ended.
 */
import assert from "node:assert/strict";
import { makeSpeechWav } from "./speech.ts";
import { BROWSER_TEST, openPage } from "./page_kit.ts";
import { countSessions } from "./server.ts";

Deno.test(
  "errors are explained with what to do next",
  BROWSER_TEST,
  async () => {
    // Speech starts after the page's turn detector runs (once the call is connected).
    const wav = await makeSpeechWav("Testing the error messages.", {
      padStartSec: 3,
      padEndSec: 1,
    });
    const t = await openPage({
      wav: wav.path,
      // Keys that outlive the steps below: the two microphone failures must reuse one session,
      // which only a key still fresh at the second Start allows (10 s keys may not be, under load).
      env: { RATE_MINTS_PER_MINUTE_PER_IP: "1000", EPHEMERAL_KEY_TTL_SECONDS: "60" },
    });
    try {
      const { page, app } = t;
      const message = page.locator("#message");
      // One plain sentence (what happened, what to do); the technical words behind a disclosure.
      let detail = "";
      const failedStart = async () => {
        await page.click("#start");
        await message.waitFor({ state: "visible", timeout: 30_000 });
        const text = await message.locator("p").textContent() ?? "";
        detail = await message.locator("details code").textContent().catch(() => "") ?? "";
        await page.waitForSelector("#status[data-state='idle']");
        return text;
      };

      // Upstream 429 → the server's 429 with Retry-After → a countdown on Start.
      app.emulator.control.failRest({
        endpoint: "client_secrets",
        count: 6, // the pre-mint and Start's mint each retry once (lib/retry.ts)
        status: 429,
      });
      let text = await failedStart();
      assert.match(
        text,
        /^Too many requests right now\. Try again in \d+ s\.$/,
      );
      assert.match(detail, /HTTP 429/);
      assert.equal(await message.locator("details").getAttribute("open"), null, "details closed");
      assert.match(
        await page.locator("#start").textContent() ?? "",
        /^Start \(\d+ s\)$/,
      );
      assert.equal(await page.locator("#start").isDisabled(), true);
      await page.waitForSelector("#start:not([disabled])", { timeout: 30_000 });
      app.emulator.control.faults.clear();

      // Upstream 500 → 502 from our server.
      app.emulator.control.failRest({
        endpoint: "client_secrets",
        count: 6, // the pre-mint and Start's mint each retry once (lib/retry.ts)
        status: 500,
      });
      text = await failedStart();
      assert.match(
        text,
        /^The transcription service is not answering right now\. Wait a moment/,
      );
      assert.match(detail, /HTTP 502 · upstream_error · .+/);
      app.emulator.control.faults.clear();

      // Network failure on the way to our server.
      await page.route(
        "**/api/session",
        (r) => r.abort("internetdisconnected"),
      );
      text = await failedStart();
      assert.match(
        text,
        /^Cannot reach the server\. Check your internet connection/,
      );
      await page.unroute("**/api/session");

      // A microphone that is not there (a stale device id).
      await page.evaluate(() => {
        const mic = document.querySelector("#mic") as HTMLSelectElement;
        mic.append(new Option("Unplugged USB microphone", "no-such-device"));
        mic.value = "no-such-device";
      });
      text = await failedStart();
      assert.match(
        text,
        /^No microphone was found\. Plug one in, or pick another one/,
      );
      await page.selectOption("#mic", "");

      // Permission denied (headless Chromium cannot click "Block", so getUserMedia says it).
      await page.evaluate(() => {
        const original = navigator.mediaDevices.getUserMedia.bind(
          navigator.mediaDevices,
        );
        navigator.mediaDevices.getUserMedia = () =>
          Promise.reject(
            new DOMException("Permission denied", "NotAllowedError"),
          );
        (globalThis as unknown as { __restoreMic: () => void }).__restoreMic = () => {
          navigator.mediaDevices.getUserMedia = original;
        };
      });
      text = await failedStart();
      assert.match(
        text,
        /^Microphone access was denied\. Allow the microphone for this site/,
      );
      await page.evaluate(() =>
        (globalThis as unknown as { __restoreMic: () => void }).__restoreMic()
      );
      // Both microphone failures reused one minted session instead of holding a slot each.
      assert.equal(await countSessions(app.store), 1);

      // The server cannot attach its sideband: the call still runs, and the page says so.
      await page.route("**/api/calls/*/sideband", (r) =>
        r.fulfill({
          status: 503,
          json: { error: { code: "unavailable", message: "Try again later" } },
        }));
      await page.click("#start");
      await page.waitForSelector("#status[data-state='live']", { timeout: 30_000 });
      await message.waitFor({ state: "visible", timeout: 10_000 });
      assert.match(
        await message.textContent() ?? "",
        /^The server could not attach to this call: captions show here, and this page saves/,
      );
      await page.waitForSelector("#transcript .utterance.final", { timeout: 30_000 });
      await page.unroute("**/api/calls/*/sideband");
      await page.click("#stop");
      await page.waitForSelector("#status[data-state='idle']");
      // ...and, as it says, the page's gap repair saved the final line it saw.
      const newest = (await app.store.listSessions({ limit: 1 })).sessions[0];
      const saved = await app.store.listUtterances(newest.id);
      assert.deepEqual(saved.map((u) => [u.status, u.seenBy]), [["final", "browser"]]);

      // A working session that OpenAI ends (session hit its maximum duration).
      await page.click("#start");
      await page.waitForSelector("#status[data-state='live']", {
        timeout: 30_000,
      });
      assert.equal(
        await message.isVisible(),
        false,
        "a successful start clears the old message",
      );
      const res = await fetch(`${app.emulator.baseUrl}/_emulator/faults`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ expireSessions: true }),
      });
      assert.equal(res.status, 200, await res.text());
      await page.waitForSelector("#status[data-state='idle']", {
        timeout: 30_000,
      });
      assert.equal(await page.locator("#status").textContent(), "Ended");
      assert.match(
        await message.textContent() ?? "",
        /ended the session|maximum length/,
      );
      assert.equal(await page.locator("#start").isDisabled(), false);
      assert.deepEqual(t.pageErrors, []);
    } finally {
      await t.close();
    }
  },
);

Deno.test(
  "the page says why the server ended the session (max duration)",
  BROWSER_TEST,
  async () => {
    const wav = await makeSpeechWav("A short sentence.", { padStartSec: 1, padEndSec: 1 });
    const t = await openPage({ wav: wav.path, env: { MAX_SESSION_SECONDS: "10" } });
    try {
      const { page, app } = t;
      await page.click("#start");
      await page.waitForSelector("#status[data-state='live']", { timeout: 30_000 });
      await page.waitForSelector("#status[data-state='idle']", { timeout: 40_000 });
      assert.equal(await page.locator("#status").textContent(), "Ended");
      assert.equal(
        await page.locator("#message").textContent(),
        "The session reached its maximum length (10 s), set by the server's MAX_SESSION_SECONDS. " +
          "Press Start to continue in a new session.",
      );
      const { sessions } = await app.store.listSessions({ limit: 1 });
      assert.equal(sessions[0].endReason, "max_duration");
      assert.deepEqual(t.pageErrors, []);
    } finally {
      await t.close();
    }
  },
);
