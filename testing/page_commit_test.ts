/**
 * Models without server VAD (gpt-realtime-whisper): the page's own voice-activity detection
 * (AudioWorklet) ends each turn with `input_audio_buffer.commit` over the data channel, shows a
 * speaking indicator and an input level meter, and the emulator's streaming mode sends text while
 * the person speaks. The microphone picker lists the devices once permission is given.
 */
import assert from "node:assert/strict";
import { makeUtterancesWav } from "./speech.ts";
import { BROWSER_TEST, finalTexts, openAdvanced, openPage } from "./page_kit.ts";

Deno.test(
  "page VAD commits each utterance for gpt-realtime-whisper",
  BROWSER_TEST,
  async () => {
    const wav = await makeUtterancesWav(
      [
        "The first sentence is about the weather today.",
        "The second one talks about lunch.",
      ],
      // Speech starts after the page's turn detector runs (once the call is connected).
      { padStartSec: 3, gapSec: 1.6, padEndSec: 2 },
    );
    const t = await openPage({ wav: wav.path });
    try {
      const { page, app } = t;
      const texts = ["The weather is fine today.", "Lunch is at noon."];
      app.emulator.control.queueTranscripts(texts);
      await page.selectOption("#model", "gpt-realtime-whisper");
      await openAdvanced(page);
      // The settings panel shows only what this model accepts.
      assert.equal(await page.locator("#prompt").isVisible(), false);
      assert.equal(await page.locator("#delay").isVisible(), true);
      assert.equal(await page.locator("#pageSilenceMs").isVisible(), true);
      assert.equal(await page.locator("#turn").inputValue(), "manual");

      // Watch the speaking indicator and partial lines as they change.
      await page.evaluate(() => {
        const seen = { speaking: 0, partial: 0, level: 0 };
        (globalThis as unknown as { __seen: typeof seen }).__seen = seen;
        new MutationObserver(() => {
          if (document.querySelector("#speaking[data-on='true']")) {
            seen.speaking++;
          }
          if (document.querySelector("#transcript .utterance.partial")) {
            seen.partial++;
          }
          if (Number(document.querySelector("#level")?.getAttribute("aria-valuenow")) > 0) {
            seen.level++;
          }
        }).observe(document.body, {
          subtree: true,
          attributes: true,
          childList: true,
        });
      });
      const bodies: unknown[] = [];
      page.on("request", (r) => {
        if (r.url().endsWith("/api/session") && r.method() === "POST") {
          bodies.push(r.postDataJSON());
        }
      });

      await page.click("#start");
      await page.waitForSelector("#status[data-state='live']", {
        timeout: 30_000,
      });
      assert.equal(await page.locator("#commit").isVisible(), true);
      await page.waitForFunction(
        () => document.querySelectorAll("#transcript .utterance.final").length >= 2,
        undefined,
        { timeout: 30_000 },
      );
      assert.deepEqual(await finalTexts(page), texts);
      const seen = await page.evaluate(() =>
        (globalThis as unknown as {
          __seen: { speaking: number; partial: number; level: number };
        }).__seen
      );
      assert.ok(seen.speaking > 0, "the speaking indicator turned on");
      assert.ok(
        seen.partial > 0,
        "text streamed before the turn was committed",
      );
      assert.ok(seen.level > 0, "the input level meter moved");
      // With the permission given, the microphone picker lists the devices by name.
      const mics = await page.locator("#mic option").allTextContents();
      assert.ok(mics.length >= 2, mics.join());
      assert.equal(mics[0], "Default microphone");
      assert.ok(mics.slice(1).every((m) => m.trim() !== ""), mics.join());

      // Streaming: the first delta came in before the page committed the first turn.
      const logged = await page.locator("#log li b").allTextContents();
      const firstDelta = logged.indexOf(
        "conversation.item.input_audio_transcription.delta",
      );
      const firstCommit = logged.indexOf("input_audio_buffer.commit");
      assert.ok(
        firstDelta >= 0 && firstCommit > firstDelta,
        `a delta before the first commit (${logged.join(", ")})`,
      );
      const commits = await page.locator("#log li.log-out b").allTextContents();
      assert.ok(
        commits.filter((c) => c === "input_audio_buffer.commit").length >= 2,
        `the page sent a commit per utterance (${commits.join(", ")})`,
      );
      assert.deepEqual(
        (bodies[0] as { turnDetection: unknown }).turnDetection,
        { type: "none" },
      );
      assert.equal(
        (bodies[0] as { model: string }).model,
        "gpt-realtime-whisper",
      );
      // The emulator saw exactly these committed turns.
      const calls = app.emulator.control.calls();
      assert.equal(calls.length, 1);
      assert.equal(calls[0].transcriptsCompleted, 2);
      // The page's own VAD timed the utterances (no server speech events for this model).
      const starts = await page.locator("#transcript .utterance.final .start")
        .allTextContents();
      assert.ok(starts.every((s) => /^\d+:\d\d$/.test(s)), starts.join());
      await page.click("#stop");
      await page.waitForSelector("#status[data-state='idle']");
      assert.deepEqual(t.pageErrors, []);
    } finally {
      await t.close();
    }
  },
);
