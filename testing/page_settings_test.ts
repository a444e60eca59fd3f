/**
 * The settings panel: the model catalog from `/api/models`, only valid option combinations,
 * deprecated models labelled, settings remembered in localStorage and sent to `/api/session`
 * (which accepts them).
 */
import assert from "node:assert/strict";
import { MODELS } from "../lib/models.ts";
import { makeSilenceWav } from "./speech.ts";
import { BROWSER_TEST, openAdvanced, openPage } from "./page_kit.ts";

Deno.test(
  "settings follow the model catalog and are remembered",
  BROWSER_TEST,
  async () => {
    const silence = await makeSilenceWav(3);
    const t = await openPage({ wav: silence.path });
    try {
      const { page } = t;
      const options = await page.locator("#model option").evaluateAll((els) =>
        els.map((e) => ({
          value: (e as HTMLOptionElement).value,
          label: e.textContent ?? "",
        }))
      );
      assert.deepEqual(options.map((o) => o.value), MODELS.map((m) => m.id));
      for (const m of MODELS) {
        const label = options.find((o) => o.value === m.id)!.label;
        if (m.status === "deprecated") {
          assert.match(
            label,
            /deprecated, shuts down 2027-02-26/,
          );
        } else assert.doesNotMatch(label, /deprecated/);
      }
      // The default is what OpenAI recommends for live captions; the page commits its turns.
      assert.equal(
        await page.locator("#model").inputValue(),
        "gpt-live-transcribe",
        "default is gpt-live-transcribe",
      );
      const visible = async (id: string) => await page.locator(id).isVisible();
      // A calm first run: Model and Language show, everything else waits behind "Advanced".
      assert.equal(await visible("#language"), true);
      assert.equal(await visible("#prompt"), false);
      await openAdvanced(page);
      assert.equal(await page.locator("#turn").inputValue(), "manual");
      assert.deepEqual(
        await Promise.all(["#keywords", "#prompt", "#threshold", "#pageSilenceMs"].map(visible)),
        [true, true, false, true],
      );

      await page.selectOption("#model", "gpt-transcribe");
      // gpt-transcribe: keywords + possible languages + prompt; server VAD tuning.
      assert.deepEqual(
        await Promise.all(
          [
            "#keywords",
            "#languages",
            "#prompt",
            "#delay",
            "#threshold",
            "#eagerness",
          ].map(visible),
        ),
        [true, true, true, false, true, false],
      );
      await page.selectOption("#turn", "semantic_vad");
      assert.deepEqual(
        await Promise.all(["#threshold", "#eagerness"].map(visible)),
        [false, true],
      );
      // whisper-1 (deprecated): prompt but no keywords; the note names the shutdown date.
      await page.selectOption("#model", "whisper-1");
      assert.deepEqual(
        await Promise.all(["#keywords", "#prompt", "#logprobs"].map(visible)),
        [false, true, false],
      );
      assert.match(
        await page.locator("#model-note").textContent() ?? "",
        /2027-02-26/,
      );
      // gpt-realtime-whisper: no VAD kinds but the page's own; delay; no prompt.
      await page.selectOption("#model", "gpt-realtime-whisper");
      const turnOptions = await page.locator("#turn option").evaluateAll((
        els,
      ) =>
        els.map((e) => `${(e as HTMLOptionElement).value}:${(e as HTMLOptionElement).disabled}`)
      );
      assert.deepEqual(turnOptions, [
        "server_vad:true",
        "semantic_vad:true",
        "manual:false",
      ]);
      assert.deepEqual(
        await Promise.all(["#delay", "#prompt", "#pageSilenceMs"].map(visible)),
        [true, false, true],
      );

      // Choose a full set for gpt-transcribe, reload, and find it again.
      await page.selectOption("#model", "gpt-transcribe");
      await page.selectOption("#language", "fr");
      await page.fill("#keywords", "Hono, Val Town");
      await page.fill("#prompt", "A talk about web servers");
      await page.selectOption("#noise", "far");
      await page.selectOption("#turn", "semantic_vad");
      await page.selectOption("#eagerness", "high");
      await page.reload();
      await page.waitForSelector("body[data-ready]");
      assert.equal(await page.locator("#model").inputValue(), "gpt-transcribe");
      assert.equal(await page.locator("#language").inputValue(), "fr");
      assert.equal(
        await page.locator("#keywords").inputValue(),
        "Hono, Val Town",
      );
      assert.equal(await page.locator("#noise").inputValue(), "far");
      assert.equal(await page.locator("#turn").inputValue(), "semantic_vad");
      assert.equal(await page.locator("#eagerness").inputValue(), "high");

      // Start sends exactly these options, and the server accepts them.
      const request = page.waitForRequest((r) =>
        r.url().endsWith("/api/session") && r.method() === "POST"
      );
      await page.click("#start");
      const body = (await request).postDataJSON();
      assert.deepEqual(body, {
        model: "gpt-transcribe",
        language: "fr",
        prompt: "A talk about web servers",
        keywords: ["Hono", "Val Town"],
        logprobs: true,
        noiseReduction: "far",
        noiseReductionStrength: 1,
        turnDetection: { type: "semantic_vad", eagerness: "high" },
      });
      await page.waitForSelector("#status[data-state='live']", {
        timeout: 30_000,
      });
      assert.equal(await page.locator("#message").isVisible(), false);
      assert.equal(
        await page.locator("#model").isDisabled(),
        true,
        "settings lock while live",
      );
      await page.click("#stop");
      await page.waitForSelector("#status[data-state='idle']");
      assert.equal(await page.locator("#model").isDisabled(), false);
      const { sessions } = await t.app.store.listSessions({ limit: 5 });
      assert.equal(sessions[0].model, "gpt-transcribe");
      assert.equal(sessions[0].settings.language, "fr");
      assert.deepEqual(t.pageErrors, []);
    } finally {
      await t.close();
    }
  },
);
