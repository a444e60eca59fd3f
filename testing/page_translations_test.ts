/**
 * Live translated captions in a real browser: Chromium speaks two espeak-ng sentences into the
 * page, which opens a transcription call and one translation call per chosen language (Spanish,
 * German) from the same microphone. The emulator's per-language queues supply the translations;
 * the test checks that each final caption line shows its own translations under it, that the
 * server stored them (the page posts them), exports each language by `?lang=`, and that the
 * share viewer, live over SSE, shows the chosen language. A second test drops one translation
 * call: the captions go on, the page says which language stopped and Retry brings it back.
 */
import assert from "node:assert/strict";
import type { Page } from "npm:playwright-core@1.65.1";
import { makeUtterancesWav } from "./speech.ts";
import { BROWSER_TEST, finalTexts, openPage } from "./page_kit.ts";
import { waitFor } from "./server.ts";
import { checkA11y, formatViolations } from "./a11y_kit.ts";

/** No serious or critical axe finding in the page's current state. */
async function assertAccessible(page: Page, label: string) {
  const report = await checkA11y(page, label);
  assert.deepEqual(report.blocking, [], formatViolations(report));
}

const SPOKEN = ["The weather is very nice today.", "I would like a cup of coffee please."];
const SOURCE = ["The weather is very nice today.", "I would like a cup of coffee, please."];
const SPANISH = ["Hoy hace muy buen tiempo.", "Quisiera una taza de café, por favor."];
const GERMAN = ["Das Wetter ist heute sehr schön.", "Ich hätte gern eine Tasse Kaffee, bitte."];

/** The translations under each final line, per language, in line order. */
function linesWithTranslations(page: Page) {
  return page.evaluate(() =>
    [...document.querySelectorAll("#transcript .utterance.final")].map((li) => ({
      text: li.querySelector(".text")?.textContent ?? "",
      es: li.querySelector(".translation[lang=es] .tr-text")?.textContent ?? "",
      de: li.querySelector(".translation[lang=de] .tr-text")?.textContent ?? "",
    }))
  );
}

async function chooseLanguages(page: Page, codes: string[]) {
  await page.selectOption("#translations", codes);
  assert.match(await page.locator("#translation-note").textContent() ?? "", /live calls/);
}

Deno.test(
  "translated captions: two languages under the right lines, stored, exported, in the viewer",
  BROWSER_TEST,
  async () => {
    const wav = await makeUtterancesWav(SPOKEN, { padStartSec: 3, gapSec: 3.5, padEndSec: 4 });
    const t = await openPage({ wav: wav.path });
    try {
      const { page, app } = t;
      app.emulator.control.queueTranscripts(SOURCE);
      app.emulator.control.queueTranslations("es", SPANISH);
      app.emulator.control.queueTranslations("de", GERMAN);
      await chooseLanguages(page, ["es", "de"]);
      await page.click("#start");
      await page.waitForSelector("#status[data-state='live']", { timeout: 30_000 });
      await page.waitForSelector(".tr-chip[data-lang=es][data-state=live]", { timeout: 30_000 });
      await page.waitForSelector(".tr-chip[data-lang=de][data-state=live]", { timeout: 30_000 });
      const sessionId = await page.locator("#share").getAttribute("data-session-id");
      assert.ok(sessionId);

      // A reader follows the share link in German while the session is live.
      const viewer = await t.browser.page.context().newPage();
      await viewer.goto(`${app.baseUrl}/s/${sessionId}?lang=de`);
      await viewer.waitForSelector("#lang:not([hidden])");
      assert.equal(await viewer.locator("#lang").inputValue(), "de");

      let seen: unknown = null;
      const lines = await waitFor(async () => {
        const got = await linesWithTranslations(page);
        seen = got;
        return got.length === 2 && got.every((l) => l.es && l.de) &&
            got[1].es === SPANISH[1] && got[1].de === GERMAN[1]
          ? got
          : null;
      }, { timeoutMs: 60_000 }).catch((err) => {
        throw new Error(`${err.message}: the page shows ${JSON.stringify(seen)}`);
      });
      assert.deepEqual(lines, SOURCE.map((text, i) => ({ text, es: SPANISH[i], de: GERMAN[i] })));
      assert.deepEqual(await finalTexts(page), SOURCE);
      await assertAccessible(page, "page with two translations");

      // Translated speech plays only when asked: muted until Play.
      const muted = () =>
        page.evaluate(() =>
          (document.querySelector("audio[data-lang=es]") as HTMLAudioElement | null)?.muted
        );
      await page.waitForSelector("audio[data-lang=es]", { state: "attached" });
      assert.equal(await muted(), true);
      await page.click(".tr-chip[data-lang=es] .tr-play");
      assert.equal(await muted(), false);
      assert.equal(
        await page.locator(".tr-chip[data-lang=es] .tr-play").getAttribute("aria-pressed"),
        "true",
      );

      // Caption mode in one language: Spanish replaces the original text.
      await page.click("#captions");
      await page.selectOption("#caption-lang", "es");
      const visible = await page.evaluate(() =>
        [...document.querySelectorAll("#transcript .utterance.final")].map((li) => ({
          original: getComputedStyle(li.querySelector(".text")!).display,
          es: getComputedStyle(li.querySelector(".translation[lang=es]")!).display,
          de: getComputedStyle(li.querySelector(".translation[lang=de]")!).display,
        }))
      );
      assert.deepEqual(visible, [0, 1].map(() => ({ original: "none", es: "block", de: "none" })));
      await page.click("#captions");

      // The viewer got the German lines live over SSE; switching to Spanish rewrites the URL.
      const viewerLines = () =>
        viewer.evaluate(() =>
          [...document.querySelectorAll("#transcript .utterance")].map((li) =>
            [...li.querySelectorAll(".translation")].map((p) => [
              (p as HTMLElement).lang,
              p.querySelector(".tr-text")?.textContent,
            ])
          )
        );
      await waitFor(async () => {
        const got = await viewerLines();
        seen = got;
        return got.length === 2 && got[1].length === 1 && got[1][0][1] === GERMAN[1];
      }, { timeoutMs: 30_000 }).catch((err) => {
        throw new Error(`${err.message}: the viewer shows ${JSON.stringify(seen)}`);
      });
      assert.deepEqual(await viewerLines(), GERMAN.map((de) => [["de", de]]));
      await viewer.selectOption("#lang", "es");
      assert.deepEqual(await viewerLines(), SPANISH.map((es) => [["es", es]]));
      await assertAccessible(viewer, "viewer in Spanish");
      assert.match(viewer.url(), /\?lang=es$/);
      assert.match(
        await viewer.locator("#dl-txt").getAttribute("href") ?? "",
        /format=txt&download=1&lang=es$/,
      );

      await page.click("#stop");
      await page.waitForSelector("#status[data-state='idle']");

      // The server holds both languages (posted by the page) and exports each by ?lang=.
      const stored = await waitFor(async () => {
        const rows = await app.store.listTranslationDeltas(sessionId);
        seen = rows.map((r) => [r.language, r.text, r.itemId]);
        const text = (lang: string) =>
          rows.filter((r) => r.language === lang).map((r) => r.text).join("").trim();
        return text("es").endsWith(SPANISH[1]) && text("de").endsWith(GERMAN[1]) ? rows : null;
      }, { timeoutMs: 15_000 }).catch((err) => {
        throw new Error(`${err.message}: the store holds ${JSON.stringify(seen)}`);
      });
      assert.ok(stored.every((r) => r.kind === "output" && r.eventId.length > 0));
      const exported = async (query: string) => {
        const res = await fetch(`${app.baseUrl}/api/sessions/${sessionId}/transcript?${query}`);
        return { status: res.status, body: await res.text() };
      };
      assert.deepEqual(await exported("format=txt&lang=es"), {
        status: 200,
        body: SPANISH.join("\n") + "\n",
      });
      assert.deepEqual(await exported("format=txt&lang=de"), {
        status: 200,
        body: GERMAN.join("\n") + "\n",
      });
      const srt = await exported("format=srt&lang=de");
      assert.match(srt.body, /^1\n\d\d:\d\d:\d\d,\d{3} --> .*\nDas Wetter/);
      assert.equal((await exported("format=txt&lang=fr")).status, 400);
      const json = JSON.parse((await exported("format=json")).body);
      assert.deepEqual(json.translations, ["es", "de"]);
      assert.deepEqual(
        json.utterances.map((
          u: { text: string; translations: unknown },
        ) => [u.text, u.translations]),
        SOURCE.map((text, i) => [text, { es: SPANISH[i], de: GERMAN[i] }]),
      );
      assert.deepEqual(t.pageErrors, []);
      await viewer.close();
    } finally {
      await t.close();
    }
  },
);

Deno.test(
  "translated captions: a dropped translation call stops only its language; Retry restarts it",
  BROWSER_TEST,
  async () => {
    const wav = await makeUtterancesWav(SPOKEN, { padStartSec: 3, gapSec: 8, padEndSec: 4 });
    const t = await openPage({ wav: wav.path });
    try {
      const { page, app } = t;
      app.emulator.control.queueTranscripts(SOURCE);
      app.emulator.control.queueTranslations("es", SPANISH);
      app.emulator.control.queueTranslations("de", GERMAN);
      await chooseLanguages(page, ["es", "de"]);
      await page.click("#start");
      await page.waitForSelector(".tr-chip[data-lang=de][data-state=live]", { timeout: 30_000 });
      await waitFor(async () => (await linesWithTranslations(page))[0]?.de === GERMAN[0], {
        timeoutMs: 60_000,
      });

      // The German call drops, and every call to reconnect it fails.
      app.emulator.control.failRest({ endpoint: "translation_calls", status: 500, count: 50 });
      const german = app.emulator.control.state.calls.values().find((c) =>
        c.api === "translation" && c.state !== "ended" &&
        JSON.stringify(c.session?.config ?? {}).includes('"language":"de"')
      );
      assert.ok(german, "the German translation call is listed");
      await app.emulator.control.state.endCall(german, "test: dropped");
      await page.waitForSelector(".tr-chip[data-lang=de][data-state=stopped]", {
        timeout: 30_000,
      });
      assert.equal(await page.locator(".tr-chip[data-lang=de] .tr-retry").isVisible(), true);
      await assertAccessible(page, "page with a stopped translation");
      assert.match(await page.locator(".tr-chip[data-lang=de]").textContent() ?? "", /German/);
      assert.equal(
        await page.locator(".tr-chip[data-lang=es]").getAttribute("data-state"),
        "live",
      );

      // Captions and the Spanish translation go on.
      await waitFor(async () => {
        const got = await linesWithTranslations(page);
        return got.length === 2 && got[1].es === SPANISH[1];
      }, { timeoutMs: 60_000 });
      assert.equal(await page.locator("#status").getAttribute("data-state"), "live");

      app.emulator.control.faults.rest = [];
      await page.click(".tr-chip[data-lang=de] .tr-retry");
      await page.waitForSelector(".tr-chip[data-lang=de][data-state=live]", { timeout: 30_000 });
      await page.click("#stop");
      await page.waitForSelector("#status[data-state='idle']");
      assert.deepEqual(t.pageErrors, []);
    } finally {
      await t.close();
    }
  },
);
