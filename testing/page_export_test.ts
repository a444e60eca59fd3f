/**
 * Captions people can use: keyboard shortcuts, copy, share, exports (parsed with independent
 * SRT/VTT parsers), clear, caption mode, gap-repair upload, light/dark and a 375 px phone width.
 */
import assert from "node:assert/strict";
import SrtParser from "npm:srt-parser-2@1.2.3";
import webvtt from "npm:webvtt-parser@2.2.0";
import type { Page } from "npm:playwright-core@1.65.1";
import { makeUtterancesWav } from "./speech.ts";
import { BROWSER_TEST, finalTexts, openPage } from "./page_kit.ts";

// deno-lint-ignore no-explicit-any
const { WebVTTParser } = webvtt as any;

async function download(
  page: Page,
  trigger: () => Promise<void>,
): Promise<{ name: string; text: string }> {
  const [d] = await Promise.all([page.waitForEvent("download"), trigger()]);
  const path = await d.path();
  return { name: d.suggestedFilename(), text: await Deno.readTextFile(path) };
}

Deno.test(
  "copy, share, export, clear, caption mode, themes and phone width",
  BROWSER_TEST,
  async () => {
    // The default model's turns are the page's, and its turn detector runs once the call is
    // connected, while the fake microphone plays from getUserMedia: the first utterance comes
    // after the slowest connection seen here (about 2 s on a loaded machine), so it is a turn.
    const wav = await makeUtterancesWav(
      ["Good morning everyone.", "Welcome to the captions test."],
      { padStartSec: 3, gapSec: 1.5, padEndSec: 2 },
    );
    const t = await openPage({ wav: wav.path });
    try {
      const { page, app } = t;
      const texts = [
        "Good morning everyone.",
        "Tom & Jerry <b>bold</b> --> end",
      ];
      app.emulator.control.queueTranscripts(texts);
      await t.browser.context.grantPermissions([
        "clipboard-read",
        "clipboard-write",
      ], {
        origin: app.baseUrl,
      });
      const clipboard = () => page.evaluate(() => navigator.clipboard.readText());
      const repairs: Array<
        {
          url: string;
          body: { ticket: string; utterances: { text: string }[] };
        }
      > = [];
      page.on("request", (r) => {
        if (/\/api\/sessions\/[^/]+\/utterances$/.test(r.url())) {
          repairs.push({ url: r.url(), body: r.postDataJSON() });
        }
      });

      // The shortcuts are listed on the page, and Alt+Shift+S starts (from the transcript: never
      // from a focused button or field).
      const keys = await page.locator(".keys kbd").allTextContents();
      for (const k of ["S", "C", "E", "F", "Esc"]) {
        assert.ok(
          keys.includes(k),
          `shortcut ${k} listed`,
        );
      }
      await page.locator("#transcript").press("Alt+Shift+KeyS");
      await page.waitForSelector("#status[data-state='live']", {
        timeout: 30_000,
      });
      await page.waitForFunction(
        () => document.querySelectorAll("#transcript .utterance.final").length >= 2,
        undefined,
        { timeout: 30_000 },
      );
      assert.deepEqual(await finalTexts(page), texts);
      const { sessions } = await app.store.listSessions({ limit: 5 });
      const sessionId = sessions[0].id;

      // Caption mode: Alt+Shift+F on, large white-on-black text, Escape off.
      await page.locator("#transcript").press("Alt+Shift+KeyF");
      assert.equal(
        await page.locator("body").getAttribute("class"),
        "captions",
      );
      assert.equal(
        await page.locator("#captions").getAttribute("aria-pressed"),
        "true",
      );
      const style = await page.locator("#transcript .utterance.final .text")
        .first().evaluate((el) => {
          const s = getComputedStyle(el);
          return {
            size: parseFloat(s.fontSize),
            color: s.color,
            bg: getComputedStyle(document.body).backgroundColor,
          };
        });
      assert.ok(style.size >= 24, `caption text is large (${style.size}px)`);
      assert.deepEqual([style.color, style.bg], [
        "rgb(255, 255, 255)",
        "rgb(0, 0, 0)",
      ]);
      assert.equal(await page.locator("#settings-panel").isVisible(), false);
      assert.equal(await page.locator("#mic").isVisible(), false);
      assert.equal(await page.locator("#stop").isVisible(), true, "Stop stays reachable");
      await page.locator("body").press("Escape");
      assert.equal(await page.locator("body").getAttribute("class"), "");

      // Alt+Shift+S again stops; the page uploads the finals it saw (gap repair) with its ticket.
      await page.locator("#transcript").press("Alt+Shift+KeyS");
      await page.waitForSelector("#status[data-state='idle']");
      assert.ok(repairs.length >= 1, "gap-repair upload at stop");
      const last = repairs.at(-1)!;
      assert.ok(last.url.endsWith(`/api/sessions/${sessionId}/utterances`));
      assert.equal(typeof last.body.ticket, "string");
      assert.deepEqual(last.body.utterances.map((u) => u.text), texts);
      // The server confirmed them against what its sideband recorded.
      const merged = await app.store.listUtterances(sessionId);
      assert.deepEqual(merged.filter((u) => u.status === "final").map((u) => u.seenBy), [
        "both",
        "both",
      ]);
      // The record's times: the default model's turns are committed by the page, so the server
      // has them from the page's upload (it hears no speech events of its own).
      const times = merged.filter((r) => r.status === "final").map((r) => [r.startMs, r.endMs]);
      assert.ok(times.every(([a, b]) => a !== null && b !== null && b > a), JSON.stringify(times));

      // Copy (Alt+Shift+C) puts the plain text on the clipboard.
      await page.locator("#transcript").press("Alt+Shift+KeyC");
      assert.equal(await clipboard(), texts.join("\n") + "\n");
      // Share copies the viewer link of this session.
      await page.click("#share");
      await page.waitForFunction(() =>
        document.querySelector("#status")?.textContent === "Share link copied"
      );
      assert.equal(await clipboard(), `${app.baseUrl}/s/${sessionId}`);

      // Exports, read back with independent parsers.
      const txt = await download(page, () => page.locator("#transcript").press("Alt+Shift+KeyE"));
      assert.match(txt.name, /^transcript-\d{8}T\d{4}\.txt$/);
      assert.equal(txt.text, texts.join("\n") + "\n");
      const srt = await download(page, () => page.click("[data-export='srt']"));
      const srtCues = new SrtParser().fromSrt(srt.text);
      assert.deepEqual(srtCues.map((c) => c.text), [
        texts[0],
        "Tom & Jerry <b>bold</b> -> end",
      ]);
      assert.deepEqual(
        srtCues.map((
          c,
        ) => [
          Math.round(c.startSeconds * 1000),
          Math.round(c.endSeconds * 1000),
        ]),
        times,
      );
      const vtt = await download(page, () => page.click("[data-export='vtt']"));
      const parsed = new WebVTTParser().parse(vtt.text, "subtitles");
      assert.deepEqual(parsed.errors, []);
      assert.deepEqual(
        parsed.cues.map((c: { startTime: number; endTime: number }) => [
          Math.round(c.startTime * 1000),
          Math.round(c.endTime * 1000),
        ]),
        times,
      );
      assert.equal(
        parsed.cues[1].text,
        "Tom &amp; Jerry &lt;b&gt;bold&lt;/b&gt; --&gt; end",
      );
      const json = JSON.parse(
        (await download(page, () => page.click("[data-export='json']"))).text,
      );
      assert.equal(json.sessionId, sessionId);
      assert.equal(json.model, "gpt-live-transcribe");
      assert.deepEqual(
        json.utterances.map((u: { text: string }) => u.text),
        texts,
      );

      // Themes follow prefers-color-scheme.
      const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      await page.emulateMedia({ colorScheme: "dark" });
      assert.equal(await bg(), "rgb(15, 17, 21)");
      await page.emulateMedia({ colorScheme: "light" });
      assert.equal(await bg(), "rgb(247, 247, 245)");

      // 375 px: nothing overflows sideways and the controls stay reachable.
      await page.setViewportSize({ width: 375, height: 800 });
      assert.ok(
        await page.evaluate(() => document.documentElement.scrollWidth <= 375),
      );
      const box = await page.locator("#start").boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 375);

      // Clear (in the phone's "More" menu) empties the transcript and copy then has nothing.
      await page.click("#menu");
      await page.click("#clear");
      assert.deepEqual(await finalTexts(page), []);
      assert.equal(await page.locator("#empty").isVisible(), true);
      assert.deepEqual(t.pageErrors, []);
    } finally {
      await t.close();
    }
  },
);
