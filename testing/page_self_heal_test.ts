/**
 * A self-healed session in real Chromium: the emulator refuses server VAD for gpt-transcribe (an
 * option the catalog allows), the server mints again without it, the page says so in one sentence
 * and commits every turn itself, and the final captions arrive.
 */
import assert from "node:assert/strict";
import { makeUtterancesWav } from "./speech.ts";
import { BROWSER_TEST, finalTexts, openPage } from "./page_kit.ts";

Deno.test(
  "refused server VAD: the page is told, commits its turns, and gets final captions",
  BROWSER_TEST,
  async () => {
    const wav = await makeUtterancesWav(
      ["The first sentence is about the weather today.", "The second one talks about lunch."],
      // Speech starts after the page's turn detector runs (once the call is connected).
      { padStartSec: 3, gapSec: 1.6, padEndSec: 2 },
    );
    const t = await openPage({
      wav: wav.path,
      emulator: { refuseOptions: { "gpt-transcribe": ["turn_detection"] } },
    });
    try {
      const { page, app } = t;
      const texts = ["The weather is fine today.", "Lunch is at noon."];
      app.emulator.control.queueTranscripts(texts);
      const answers: { body: Record<string, unknown>; json: Record<string, unknown> }[] = [];
      page.on("response", async (r) => {
        if (r.url().endsWith("/api/session") && r.request().method() === "POST") {
          answers.push({ body: r.request().postDataJSON(), json: await r.json() });
        }
      });
      await page.selectOption("#model", "gpt-transcribe");
      // The page asks for server VAD, as the catalog allows for this model.
      assert.equal(await page.locator("#turn").inputValue(), "server_vad");

      await page.click("#start");
      await page.waitForSelector("#status[data-state='live']", { timeout: 30_000 });
      const message = page.locator("#message");
      await message.waitFor({ state: "visible" });
      assert.match(
        (await message.textContent()) ?? "",
        /^OpenAI refused server turn detection for gpt-transcribe \("Turn detection is not supported for this transcription model"\), so this session runs without it: the page ends each turn itself\.$/,
      );
      await page.waitForFunction(
        () => document.querySelectorAll("#transcript .utterance.final").length >= 2,
        undefined,
        { timeout: 45_000 },
      );
      assert.deepEqual(await finalTexts(page), texts);
      const commits = await page.locator("#log li.log-out b").allTextContents();
      assert.ok(
        commits.filter((c) => c === "input_audio_buffer.commit").length >= 2,
        `the page sent a commit per utterance (${commits.join(", ")})`,
      );
      // Every session minted for this model asked for server VAD and got page commits instead.
      const minted = answers.filter((a) => a.body.model === "gpt-transcribe");
      assert.ok(minted.length >= 1);
      for (const a of minted) {
        assert.equal((a.body.turnDetection as { type: string }).type, "server_vad");
        assert.equal(a.json.clientCommits, true);
      }
      const calls = app.emulator.control.calls();
      assert.equal(calls.length, 1);
      assert.equal(calls[0].transcriptsCompleted, 2);
      const rules = await app.store.listLearnedRules(Date.now());
      assert.deepEqual(rules.map((r) => [r.model, r.option]), [[
        "gpt-transcribe",
        "turnDetection",
      ]]);
      await page.click("#stop");
      await page.waitForSelector("#status[data-state='idle']");
      assert.deepEqual(t.pageErrors, []);
    } finally {
      await t.close();
    }
  },
);
