/**
 * The main page as its readers use it, in Chromium: it follows the speaker (200 lines, caption mode
 * toggled, resized, zoomed; "Jump to live" once scrolled away), a 390 px phone with a bottom bar,
 * Stop mid-sentence (the line is kept "(cut off)" and Copy/exports have it), projector-ready
 * caption mode (32–42 characters a line), shortcuts with a modifier that never fire from a
 * focused control, focus after Start and Stop, plain errors with the refused setting marked,
 * "no confidence reported", Clear with Undo, the transcript restored after a reload, no layout
 * shift, and axe-core on each of these states (serious or critical violations fail).
 */
import assert from "node:assert/strict";
import type { Page } from "npm:playwright-core@1.65.1";
import { makeSpeechWav, makeUtterancesWav } from "./speech.ts";
import { BROWSER_TEST, finalTexts, openPage } from "./page_kit.ts";
import { checkA11y, formatViolations } from "./a11y_kit.ts";
import type { TestApp } from "./server.ts";

const T = "conversation.item.input_audio_transcription.";
const SESSION_KEY = "hello-transcription.current-session";

/** Runs axe on the page's state; fails on serious/critical, prints the moderate ones. */
async function axe(page: Page, label: string) {
  const report = await checkA11y(page, label);
  console.log(formatViolations(report));
  assert.deepEqual(report.blocking.map((v) => v.id), [], formatViolations(report));
}

/** True when the newest line is fully inside the transcript's box and the window. */
function newestInView(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const list = document.getElementById("transcript")!;
    const items = [...list.children].filter((li) => getComputedStyle(li).display !== "none");
    const last = items.at(-1);
    if (!last) return false;
    const r = last.getBoundingClientRect();
    const l = list.getBoundingClientRect();
    return r.height > 0 && r.top >= l.top - 1 && r.bottom <= l.bottom + 1 &&
      r.bottom <= innerHeight + 1;
  });
}

/** {@linkcode newestInView} once the next frames have run (layout observers fire with them). */
async function inViewSoon(page: Page): Promise<boolean> {
  await page.evaluate(() =>
    new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(null))))
  );
  return await newestInView(page);
}

/** A stored session of `n` final lines (what a reload restores). */
async function storedSession(app: TestApp, n: number, text: (i: number) => string) {
  const { id } = await app.store.createSession({
    source: "webrtc",
    model: "gpt-live-transcribe",
    settings: {},
  });
  await app.store.updateSession(id, {
    status: "ended",
    startedAt: Date.now(),
    endedAt: Date.now(),
  });
  let prev: string | null = null;
  for (let i = 0; i < n; i++) {
    const item = `item_${i}`;
    const events = [
      { type: "input_audio_buffer.speech_started", item_id: item, audio_start_ms: i * 3000 },
      { type: "input_audio_buffer.speech_stopped", item_id: item, audio_end_ms: i * 3000 + 2500 },
      { type: "input_audio_buffer.committed", item_id: item, previous_item_id: prev },
      { type: T + "completed", item_id: item, transcript: text(i) },
    ];
    for (const [k, e] of events.entries()) {
      await app.store.recordEvent(id, { ...e, event_id: `event_${item}_${k}` });
    }
    prev = item;
  }
  return id;
}

/** Characters on each full rendered line of the visible caption lines (last lines excluded). */
function captionLineLengths(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    const out: number[] = [];
    for (const p of document.querySelectorAll("#transcript > li .text")) {
      if (getComputedStyle(p.closest("li")!).display === "none") continue;
      const node = p.firstChild;
      if (!node) continue;
      const text = node.textContent ?? "";
      const range = document.createRange();
      const lines: string[] = [];
      let top: number | null = null;
      let line = "";
      for (let i = 0; i < text.length; i++) {
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const rect = range.getClientRects()[0];
        if (!rect) continue;
        if (top !== null && rect.top - top > 5) {
          lines.push(line);
          line = "";
        }
        if (top === null || rect.top - top > 5) top = rect.top;
        line += text[i];
      }
      out.push(...lines.map((l) => l.trim().length)); // the paragraph's last line is not full
    }
    return out;
  });
}

Deno.test(
  "follow live: 200 lines, caption mode toggled, resized and zoomed; Jump to live once scrolled away",
  BROWSER_TEST,
  async () => {
    const wav = await makeSpeechWav("A new line arrives while the reader looks back.", {
      padStartSec: 6,
      padEndSec: 2,
    });
    const t = await openPage({ wav: wav.path });
    try {
      const { page, app } = t;
      const id = await storedSession(
        app,
        200,
        (i) =>
          `Line ${i + 1}: the speaker keeps talking about captions that follow them on any screen.`,
      );
      // The transcript of this tab survives a reload: it comes back from the server's record.
      await page.evaluate(([k, v]) => sessionStorage.setItem(k, v), [SESSION_KEY, id]);
      await page.reload();
      await page.waitForSelector("body[data-ready]");
      assert.equal((await finalTexts(page)).length, 200);
      assert.equal(await page.locator("#share").isEnabled(), true, "the restored session shares");
      assert.equal(await newestInView(page), true, "the newest of 200 lines is in view");
      await axe(page, "main page, desktop, long transcript");

      for (let round = 0; round < 2; round++) {
        await page.locator("body").press("Alt+Shift+KeyF");
        assert.equal(await page.locator("body").getAttribute("class"), "captions");
        assert.equal(await newestInView(page), true, `caption mode ${round}: newest in view`);
        await page.locator("body").press("Escape");
        assert.equal(await page.locator("body").getAttribute("class"), "");
        assert.equal(await newestInView(page), true, `after caption mode ${round}: newest in view`);
      }
      // A ResizeObserver callback runs with the next frame.
      await page.setViewportSize({ width: 900, height: 600 });
      assert.equal(await inViewSoon(page), true, "after a resize");
      // Browser zoom at 150 % gives that window a CSS viewport of 600×400.
      await page.setViewportSize({ width: 600, height: 400 });
      assert.equal(await inViewSoon(page), true, "after zooming in");
      await page.setViewportSize({ width: 1280, height: 900 });

      // Projector-ready caption mode: the newest three lines, 32–42 characters a line, no
      // metadata, a floating bar with Stop, exit, text size; the size is remembered.
      await page.locator("body").press("Alt+Shift+KeyF");
      const visibleLines = await page.locator("#transcript > li:visible").count();
      assert.equal(visibleLines, 3);
      assert.equal(await page.locator("#transcript .meta").first().isVisible(), false);
      const lengths = await captionLineLengths(page);
      console.log(`caption mode at 1280 px: characters per full line ${JSON.stringify(lengths)}`);
      assert.ok(lengths.length >= 3, "caption lines wrap");
      assert.ok(lengths.every((n) => n >= 32 && n <= 42), JSON.stringify(lengths));
      for (const b of ["#captions", "#stop", "#text-smaller", "#text-larger"]) {
        assert.equal(await page.locator(b).isVisible(), true, `${b} in the floating bar`);
      }
      assert.equal(await page.locator("#status").isVisible(), true, "the live/reconnecting dot");
      assert.equal(await page.locator("#copy").isVisible(), false);
      await axe(page, "caption mode");
      const size = () =>
        page.locator("#transcript > li:visible .text").last().evaluate((el) =>
          parseFloat(getComputedStyle(el).fontSize)
        );
      const before = await size();
      await page.click("#text-larger");
      assert.ok(await size() > before, "A+ enlarges the captions");
      assert.equal(await newestInView(page), true);
      await page.reload();
      await page.waitForSelector("body[data-ready]");
      await page.locator("body").press("Alt+Shift+KeyF");
      assert.ok(Math.abs(await size() - before * 1.15) < 1, "the text size is remembered");
      await page.click("#text-smaller");
      await page.locator("body").press("Escape");

      // Live, the reader scrolls back: new lines are counted, Jump to live returns.
      app.emulator.control.queueTranscripts(["A new line arrives while the reader looks back."]);
      await page.click("#start");
      await page.waitForSelector("#status[data-state='live']", { timeout: 30_000 });
      await page.hover("#transcript");
      await page.mouse.wheel(0, -4000);
      await page.waitForFunction(() => {
        const l = document.getElementById("transcript")!;
        return l.scrollHeight - l.scrollTop - l.clientHeight > 500;
      });
      assert.equal(await page.locator("#jump").isVisible(), false, "no new lines yet");
      await page.waitForFunction(
        () => document.querySelectorAll("#transcript .utterance.final").length === 201,
        undefined,
        { timeout: 30_000 },
      );
      assert.equal(await page.locator("#jump").isVisible(), true);
      assert.equal(await page.locator("#jump").textContent(), "1 new line · Jump to live");
      assert.equal(await newestInView(page), false, "the reader's place is kept");
      await axe(page, "main page, live, scrolled back");
      await page.click("#jump");
      assert.equal(await newestInView(page), true);
      assert.equal(await page.locator("#jump").isVisible(), false);
      assert.equal(await page.evaluate(() => document.activeElement?.id), "transcript");
      await page.click("#stop");
      await page.waitForSelector("#status[data-state='idle']");
      assert.deepEqual(t.pageErrors, []);
    } finally {
      await t.close();
    }
  },
);

Deno.test(
  "a 390 px phone: full-height transcript, bottom bar, newest lines arrive in view untouched",
  BROWSER_TEST,
  async () => {
    const texts = [
      "First line on the phone.",
      "Second line follows.",
      "Third line, still in view.",
    ];
    const wav = await makeUtterancesWav(texts, { padStartSec: 3, gapSec: 1.5, padEndSec: 2 });
    const t = await openPage({ wav: wav.path, viewport: { width: 390, height: 844 } });
    try {
      const { page, app } = t;
      app.emulator.control.queueTranscripts(texts);
      const box = async (sel: string) => (await page.locator(sel).boundingBox())!;
      const list = await box("#transcript");
      const bar = await box(".controls");
      console.log(
        `phone 390×844: transcript from y=${Math.round(list.y)} to ${
          Math.round(list.y + list.height)
        }, bottom bar from y=${Math.round(bar.y)}`,
      );
      assert.ok(list.y < 160, `the transcript starts near the top (y=${list.y})`);
      assert.ok(list.y + list.height <= bar.y + 1, "the transcript ends above the bottom bar");
      assert.ok(Math.abs(bar.y + bar.height - 844) < 1, "the bar sits at the bottom");
      assert.ok(list.height > 500, `full height (${list.height} px)`);
      assert.ok(await page.locator(".banner:visible").count() <= 1, "one banner at most");
      for (const sel of ["#start", "#stop", "#captions", "#menu"]) {
        const b = await box(sel);
        assert.ok(b.width >= 44 && b.height >= 44, `${sel} is ${b.width}×${b.height}`);
        assert.ok(b.y >= bar.y, `${sel} is in the bottom bar`);
      }
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390));
      // Copy, export and share live in the bar's menu.
      assert.equal(await page.locator("#copy").isVisible(), false);
      await page.click("#menu");
      assert.equal(await page.locator("#copy").isVisible(), true);
      assert.equal(await page.locator("#menu").getAttribute("aria-expanded"), "true");
      await axe(page, "main page, phone, menu open");
      await page.keyboard.press("Escape");
      assert.equal(await page.locator("#copy").isVisible(), false);

      // Each line's arrival is checked in the page, on the frame after it was drawn.
      await page.evaluate(() => {
        const seen: boolean[] = [];
        (globalThis as unknown as { __seen: boolean[] }).__seen = seen;
        const list = document.getElementById("transcript")!;
        new MutationObserver(() =>
          requestAnimationFrame(() => {
            const last = list.lastElementChild;
            if (!last) return;
            const r = last.getBoundingClientRect();
            const l = list.getBoundingClientRect();
            seen.push(r.bottom <= l.bottom + 1 && r.top >= l.top - 1);
          })
        ).observe(list, { childList: true, subtree: true, characterData: true });
      });
      await page.click("#start");
      await page.waitForSelector("#status[data-state='live']", { timeout: 30_000 });
      await page.waitForFunction(
        () => document.querySelectorAll("#transcript .utterance.final").length >= 3,
        undefined,
        { timeout: 30_000 },
      );
      assert.deepEqual(await finalTexts(page), texts);
      const seen = await page.evaluate(() =>
        (globalThis as unknown as { __seen: boolean[] }).__seen
      );
      assert.ok(seen.length >= 3 && seen.every(Boolean), JSON.stringify(seen));
      assert.equal(await newestInView(page), true);
      await axe(page, "main page, phone, live");
      await page.click("#stop");
      await page.waitForSelector("#status[data-state='idle']");
      await axe(page, "main page, phone, after Stop");
      // Confidence is never colour alone: an unsure line is underlined and says so in words.
      const marks = await page.locator("#transcript .utterance.final").evaluateAll((lis) =>
        lis.map((li) => ({
          cls: li.className,
          line: getComputedStyle(li.querySelector(".text")!).textDecorationLine,
          said: li.querySelector(".conf-sr")?.textContent ?? "",
        }))
      );
      console.log(`confidence marks: ${JSON.stringify(marks)}`);
      for (const m of marks) {
        const unsure = /conf-(mid|low)/.test(m.cls);
        assert.equal(m.line === "underline", unsure, JSON.stringify(m));
        assert.equal(m.said !== "", unsure, JSON.stringify(m));
      }
      await page.emulateMedia({ colorScheme: "dark", contrast: "more" });
      await axe(page, "main page, phone, dark, more contrast");
      await page.emulateMedia({
        colorScheme: "light",
        contrast: "no-preference",
        forcedColors: "active",
      });
      await axe(page, "main page, phone, forced colours");
      assert.equal(
        await page.locator("#transcript .utterance.final .text").first().evaluate((el) =>
          getComputedStyle(el).textDecorationLine
        ),
        marks[0].line,
        "the marks survive forced colours",
      );
      assert.deepEqual(t.pageErrors, []);
    } finally {
      await t.close();
    }
  },
);

Deno.test(
  "Stop mid-sentence: the open turn is committed, the line is kept (cut off), Copy and exports have it",
  BROWSER_TEST,
  async () => {
    const wav = await makeSpeechWav(
      "This is a long sentence that the speaker is still saying when somebody presses stop " +
        "in the middle of it, well before its end.",
      { padStartSec: 3, padEndSec: 2 },
    );
    // The final text comes long after Stop gives up waiting (4 s).
    const t = await openPage({
      wav: wav.path,
      emulator: { completedDelayMs: 20_000 },
      path: "/?debug",
    });
    try {
      const { page, app } = t;
      const said = "This is a long sentence that the speaker is still saying";
      app.emulator.control.queueTranscripts([said]);
      await t.browser.context.grantPermissions(["clipboard-read", "clipboard-write"], {
        origin: app.baseUrl,
      });
      await page.evaluate(() => {
        const log: string[] = [];
        (globalThis as unknown as { __order: string[] }).__order = log;
        const status = document.getElementById("status")!;
        new MutationObserver(() => {
          const s = `${status.dataset.state}:${status.textContent}`;
          if (log.at(-1) !== s) log.push(s);
          if (document.querySelector("#transcript .cutoff") && !log.includes("cutoff")) {
            log.push("cutoff");
          }
        }).observe(document.body, { subtree: true, childList: true, attributes: true });
      });
      await page.click("#start");
      await page.waitForSelector("#status[data-state='live']", { timeout: 30_000 });
      await page.waitForSelector("#transcript .utterance.partial", { timeout: 30_000 });
      const sent = () => page.locator("#log li.log-out b").allTextContents();
      const before = (await sent()).length;
      await page.click("#stop");
      await page.waitForSelector("#status[data-state='idle']", { timeout: 20_000 });
      const order = await page.evaluate(() =>
        (globalThis as unknown as { __order: string[] }).__order
      );
      const at = (s: string) => order.findIndex((x) => x.startsWith(s));
      assert.ok(at("stopping:Finishing") >= 0, JSON.stringify(order));
      assert.ok(at("cutoff") > at("stopping:Finishing"), JSON.stringify(order));
      assert.ok(at("idle:Stopped") > at("cutoff"), `the status settles last: ${order}`);
      assert.equal(
        order.filter((s) => s.startsWith("idle:Stopped")).length,
        1,
        "Stopped announced once",
      );
      const line = page.locator("#transcript .utterance.cutoff .text");
      const text = await line.textContent() ?? "";
      assert.match(text, /\(cut off\)$/);
      assert.ok(text.length > "(cut off)".length + 5, text);
      assert.match(await page.locator("#announcer").textContent() ?? "", /\(cut off\)/);
      // Stop sent the commit that ends the open turn.
      assert.deepEqual((await sent()).slice(before), ["input_audio_buffer.commit"]);
      await page.click("#copy");
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `${text}\n`);
      const [d] = await Promise.all([
        page.waitForEvent("download"),
        page.click("[data-export='txt']"),
      ]);
      assert.equal(await Deno.readTextFile((await d.path())!), `${text}\n`);
      await axe(page, "main page, after Stop, a line cut off");
      assert.deepEqual(t.pageErrors, []);
    } finally {
      await t.close();
    }
  },
);

Deno.test(
  "keyboard and errors: modifier shortcuts never fire from a control, focus follows Start/Stop, " +
    "a refused setting is marked, no confidence said in words, Clear with Undo, no layout shift",
  BROWSER_TEST,
  async () => {
    const wav = await makeSpeechWav("Checking the keyboard and the settings.", {
      padStartSec: 3,
      padEndSec: 2,
    });
    const t = await openPage({
      wav: wav.path,
      initScript: () => {
        const w = globalThis as unknown as { __cls: number };
        w.__cls = 0;
        new PerformanceObserver((list) => {
          for (
            const e of list.getEntries() as unknown as { value: number; hadRecentInput: boolean }[]
          ) {
            if (!e.hadRecentInput) w.__cls += e.value;
          }
        }).observe({ type: "layout-shift", buffered: true });
      },
    });
    try {
      const { page, app } = t;
      await page.waitForTimeout(1000);
      const cls = await page.evaluate(() => (globalThis as unknown as { __cls: number }).__cls);
      console.log(`cumulative layout shift after load: ${cls.toFixed(4)}`);
      assert.ok(cls < 0.01, `layout shift ${cls}`);
      assert.equal(await page.locator("#log-panel").isVisible(), false, "no event log by default");
      assert.equal(await page.locator("#share").isDisabled(), true);
      assert.match(await page.locator("#share-note").textContent() ?? "", /once a session/);
      assert.equal(await page.locator("#transcript").getAttribute("tabindex"), "0");
      assert.ok(await page.locator("#transcript").getAttribute("aria-label"));
      assert.equal(await page.locator("#start").getAttribute("aria-keyshortcuts"), "Alt+Shift+S");
      // Each model shows its price per minute next to its name (from /api/models).
      const models = await page.locator("#model option").allTextContents();
      assert.ok(models.some((m) => /\$0\.017\/min/.test(m)), JSON.stringify(models));
      assert.ok(models.some((m) => /\$0\.0045\/min/.test(m)), JSON.stringify(models));
      await axe(page, "main page, desktop, first run");

      // Never from a focused control, never a single letter.
      const idle = async (why: string) => {
        await page.waitForTimeout(400);
        assert.equal(await page.locator("#status").getAttribute("data-state"), "idle", why);
      };
      await page.focus("#settings-panel > summary");
      await page.keyboard.press("Alt+Shift+KeyS");
      await idle("Alt+Shift+S on the Settings heading");
      await page.focus("#copy");
      await page.keyboard.press("Alt+Shift+KeyS");
      await idle("Alt+Shift+S on a button");
      await page.locator("body").press("s");
      await idle("a single S");
      await page.locator("#pref-shortcuts").uncheck();
      await page.locator("body").press("Alt+Shift+KeyS");
      await idle("shortcuts turned off");
      await page.locator("#pref-shortcuts").check();

      // Start by shortcut from the page: focus lands on Stop; Stop puts it back on Start.
      app.emulator.control.models.omitLogprobs = ["gpt-live-transcribe"];
      app.emulator.control.queueTranscripts(["Checking the keyboard and the settings."]);
      await page.evaluate(() => {
        const texts: string[] = [];
        (globalThis as unknown as { __status: string[] }).__status = texts;
        const s = document.getElementById("status")!;
        new MutationObserver(() => texts.push(s.textContent ?? "")).observe(s, {
          childList: true,
          characterData: true,
          subtree: true,
        });
      });
      await page.evaluate(() => (document.activeElement as HTMLElement)?.blur());
      await page.locator("body").press("Alt+Shift+KeyS");
      await page.waitForSelector("#status[data-state='live']", { timeout: 30_000 });
      assert.equal(await page.evaluate(() => document.activeElement?.id), "stop");
      await page.waitForSelector("#transcript .utterance.final", { timeout: 30_000 });
      const final = page.locator("#transcript .utterance.final").first();
      assert.match(await final.getAttribute("class") ?? "", /conf-none/);
      assert.equal(await final.locator(".conf").textContent(), "no confidence reported");
      assert.equal(await final.locator(".lat").isVisible(), false, "no latency for readers");
      await page.click("#stop");
      await page.waitForSelector("#status[data-state='idle']");
      assert.equal(await page.evaluate(() => document.activeElement?.id), "start");
      const spoken = await page.evaluate(() =>
        (globalThis as unknown as { __status: string[] }).__status
      );
      assert.ok(spoken.every((s, i) => s !== spoken[i - 1]), `said once each: ${spoken}`);
      const [d] = await Promise.all([
        page.waitForEvent("download"),
        page.click("[data-export='json']"),
      ]);
      const json = JSON.parse(await Deno.readTextFile((await d.path())!));
      assert.equal(json.utterances[0].confidence, null);
      assert.equal(json.utterances[0].confidenceNote, "no confidence reported");
      await page.locator("#pref-confidence").uncheck();
      assert.equal(await final.locator(".conf").isVisible(), false, "confidence marks turned off");

      // Clear, then Undo.
      const lines = await finalTexts(page);
      await page.click("#clear");
      assert.deepEqual(await finalTexts(page), []);
      assert.equal(await page.evaluate(() => document.activeElement?.id), "undo-clear");
      await page.click("#undo-clear");
      assert.deepEqual(await finalTexts(page), lines);

      // A reload keeps the transcript (from the server's record).
      await page.reload();
      await page.waitForSelector("body[data-ready]");
      assert.deepEqual(await finalTexts(page), lines);

      // Possible languages are checked as typed.
      await page.click("#advanced summary");
      await page.fill("#languages", "en, zz9");
      assert.equal(await page.locator("#languages").getAttribute("aria-invalid"), "true");
      assert.match(await page.locator("#languages-error").textContent() ?? "", /zz9/);
      await page.fill("#languages", "en, fr");
      assert.equal(await page.locator("#languages").getAttribute("aria-invalid"), null);
      await page.click("#advanced summary");

      // A setting the server refuses: one sentence, the field marked and focused, the details
      // behind a disclosure.
      await page.route("**/api/session", (r) =>
        r.fulfill({
          status: 400,
          json: {
            error: {
              code: "invalid_option",
              message: 'Invalid value for "languages.0": not a language code',
              field: "languages.0",
            },
          },
        }));
      await page.click("#start");
      await page.locator("#message").waitFor({ state: "visible", timeout: 30_000 });
      assert.match(
        await page.locator("#message p").textContent() ?? "",
        /^One of the settings was not accepted\. Correct the marked field in Settings/,
      );
      assert.match(await page.locator("#message details").textContent() ?? "", /languages\.0/);
      await page.waitForFunction(() => document.activeElement?.id === "languages");
      assert.equal(await page.locator("#languages").getAttribute("aria-invalid"), "true");
      const described = await page.locator("#languages").getAttribute("aria-describedby");
      assert.match(await page.locator(`#${described}`).textContent() ?? "", /settings/);
      assert.equal(await page.locator("#advanced").getAttribute("open"), "");
      await axe(page, "main page, a refused setting");
      const messages = await page.locator("#message").textContent() ?? "";
      assert.ok(!/Try again.*Try again/.test(messages), messages);
      assert.deepEqual(t.pageErrors, []);
    } finally {
      await t.close();
    }
  },
);
