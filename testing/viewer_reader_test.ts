/**
 * The share viewer as its readers use it, in Chromium: on a 390 px phone (a full-height
 * transcript, separate download controls, a bottom bar, the newest lines arriving in view), in
 * caption mode on a projector (captions only, 32–42 characters a line, a floating bar, text size
 * remembered, high contrast), and through a screen reader's ears (new final lines announced, the
 * backlog not, the status once per change; confidence in words).
 */
import assert from "node:assert/strict";
import type { Page } from "npm:playwright-core@1.65.1";
import { launchBrowser } from "./browser.ts";
import { startTestApp, waitFor } from "./server.ts";
import { BROWSER_TEST } from "./page_kit.ts";
import { sampleLines, seedSession } from "./viewer_kit.ts";

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

type Box = { x: number; y: number; width: number; height: number };

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height &&
    b.y < a.y + a.height;
}

/** Whether the newest line's text is inside the transcript's visible box and the viewport. */
function newestInView(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const list = document.getElementById("transcript")!;
    const lines = [...list.querySelectorAll(".utterance")]
      .filter((l) => getComputedStyle(l).display !== "none");
    const last = lines.at(-1)?.querySelector(".text");
    if (!last) return false;
    const r = last.getBoundingClientRect();
    const box = list.getBoundingClientRect();
    return r.height > 0 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1 &&
      r.bottom <= innerHeight;
  });
}

/** The most characters on one rendered line of any visible caption (its last line excluded). */
function charsPerLine(page: Page): Promise<{ max: number; min: number }> {
  return page.evaluate(() => {
    let max = 0;
    let min = Infinity;
    for (const li of document.querySelectorAll("#transcript .utterance")) {
      if (getComputedStyle(li).display === "none") continue;
      const node = li.querySelector(".text")?.firstChild;
      if (!node || node.nodeType !== Node.TEXT_NODE) continue;
      const text = node.textContent ?? "";
      const tops: number[] = [];
      const range = document.createRange();
      for (let i = 0; i < text.length; i++) {
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        tops.push(Math.round(range.getBoundingClientRect().top));
      }
      const counts = new Map<number, number>();
      tops.forEach((t) => counts.set(t, (counts.get(t) ?? 0) + 1));
      const rows = [...counts.values()];
      for (const n of rows.slice(0, -1)) {
        max = Math.max(max, n);
        min = Math.min(min, n);
      }
    }
    return { max, min };
  });
}

Deno.test({
  name:
    "the phone viewer: a full-height transcript, four labelled downloads of 44 px, a bottom bar, " +
    "newest lines arriving in view",
  ...BROWSER_TEST,
  fn: async () => {
    const t = await startTestApp();
    const b = await launchBrowser();
    try {
      const s = await seedSession(t.store, sampleLines(40));
      const { page } = b;
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      for (const viewport of [PHONE, DESKTOP]) {
        await page.setViewportSize(viewport);
        await page.goto(`${t.baseUrl}/s/${s.id}`);
        await page.waitForSelector("#status[data-state='live']");
        await waitFor(async () => (await page.locator(".utterance.final").count()) === 40);
        const list = (await page.locator("#transcript").boundingBox())!;
        // All the phone's width; on a desktop, a column of readable width.
        const wide = viewport === PHONE ? viewport.width - 60 : 600;
        assert.ok(list.width >= wide, `transcript ${list.width} px wide`);
        assert.ok(list.height >= viewport.height * 0.6, `transcript ${list.height} px high`);
        // Separate controls, each at least 44 × 44, with its format as its visible label.
        const labels: string[] = [];
        const boxes: Box[] = [];
        for (const format of ["txt", "srt", "vtt", "json"]) {
          const link = page.locator(`#dl-${format}`);
          labels.push((await link.textContent())!.trim());
          assert.equal(await link.getAttribute("aria-label"), `Download ${format.toUpperCase()}`);
          const box = (await link.boundingBox())!;
          assert.ok(box.width >= 44 && box.height >= 44, `${format}: ${box.width}×${box.height}`);
          for (const other of boxes) assert.ok(!overlaps(box, other), `${format} overlaps`);
          boxes.push(box);
        }
        assert.deepEqual(labels, ["TXT", "SRT", "VTT", "JSON"]);
        // The bottom bar is on screen, at the bottom, with the caption-mode switch.
        const bar = (await page.locator(".viewer-actions").boundingBox())!;
        assert.ok(Math.abs(bar.y + bar.height - viewport.height) <= 1, `bar ends at ${bar.y}`);
        const captions = (await page.locator("#captions").boundingBox())!;
        assert.ok(captions.height >= 44 && captions.width >= 44);
        // A readable measure: at most ~80 characters a line on a wide screen.
        const measure = await charsPerLine(page);
        assert.ok(measure.max <= 80, `${measure.max} characters on a line`);
        assert.ok(await newestInView(page), "the newest stored line is in view on opening");
      }

      // On the phone, new lines arrive in view without anyone touching the screen.
      await page.setViewportSize(PHONE);
      await page.goto(`${t.baseUrl}/s/${s.id}`);
      await waitFor(async () => (await page.locator(".utterance.final").count()) === 40);
      await s.add(sampleLines(5));
      await waitFor(async () => (await page.locator(".utterance.final").count()) === 45);
      assert.ok(await newestInView(page), "the newest live line is in view");
      // ...also after caption mode was switched on and off mid-session.
      await page.click("#captions");
      await page.click("#exit-captions");
      await s.add(sampleLines(3));
      await waitFor(async () => (await page.locator(".utterance.final").count()) === 48);
      assert.ok(await newestInView(page), "the newest line after a caption-mode toggle");
      // The one banner says what went wrong and can be dismissed.
      await page.goto(`${t.baseUrl}/s/${"Z".repeat(22)}`);
      await page.locator("#banner").waitFor({ state: "visible" });
      await page.click("#dismiss");
      assert.equal(await page.locator("#banner").isVisible(), false);
      assert.equal(await page.locator(".banner:visible").count(), 0);
      assert.deepEqual(errors, []);
    } finally {
      await b.close();
      await t.close();
    }
  },
});

Deno.test({
  name:
    "viewer caption mode: captions only, 32–42 characters a line, a floating bar with status, " +
    "text size remembered, fullscreen, high contrast",
  ...BROWSER_TEST,
  fn: async () => {
    const t = await startTestApp();
    const b = await launchBrowser();
    try {
      const s = await seedSession(t.store, sampleLines(12));
      await s.add([{ text: "And this line is still being spoken by the", partial: true }]);
      const { page } = b;
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      // The text size is set through the CSSOM: the Content-Security-Policy must not refuse it.
      page.on("console", (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) errors.push(m.text());
      });
      for (const viewport of [DESKTOP, PHONE]) {
        await page.setViewportSize(viewport);
        await page.goto(`${t.baseUrl}/s/${s.id}`);
        await page.waitForSelector("#transcript .utterance.partial");
        await page.click("#captions");
        assert.equal(await page.locator("#captions").getAttribute("aria-pressed"), "true");
        assert.equal(await page.evaluate(() => document.activeElement?.id), "exit-captions");
        // Captions only: no metadata, no downloads; the newest three lines.
        for (const hidden of ["#meta", ".viewer-actions", ".utterance .meta"]) {
          assert.equal(await page.locator(hidden).first().isVisible(), false, hidden);
        }
        const shown = await page.locator("#transcript .utterance:visible .text")
          .allTextContents();
        assert.equal(shown.length, 3);
        assert.equal(shown.at(-1), "And this line is still being spoken by the");
        assert.ok(await newestInView(page));
        const measure = await charsPerLine(page);
        assert.ok(
          measure.min >= 28 && measure.max <= 42,
          `${viewport.width} px: ${measure.min}–${measure.max} characters a line`,
        );
        if (viewport === DESKTOP) {
          assert.ok(measure.min >= 32, `${measure.min} characters on the shortest line`);
        }
        // The floating bar: status with its dot (and words), A−/A+, exit; small.
        const bar = (await page.locator(".viewer-head").boundingBox())!;
        assert.ok(bar.height <= 80 && bar.y <= 16, `bar ${bar.y}+${bar.height}`);
        assert.equal(await page.locator("#status").textContent(), "Live");
        assert.equal(await page.locator("#status").isVisible(), true);
        for (const id of ["smaller", "larger", "exit-captions"]) {
          assert.equal(await page.locator(`#${id}`).isVisible(), true, id);
        }
        await page.click("#exit-captions");
        assert.equal(await page.locator(".viewer-actions").isVisible(), true);
        assert.equal(await page.evaluate(() => document.activeElement?.id), "captions");
      }

      // The floating bar's dot and word follow the stream: reconnecting, then live again.
      await page.setViewportSize(DESKTOP);
      await page.route("**/events?*", (r) => r.abort("connectionreset"));
      await page.goto(`${t.baseUrl}/s/${s.id}?captions`);
      await page.waitForSelector("#status[data-state='connecting']");
      assert.equal(await page.locator("#status").textContent(), "Reconnecting…");
      assert.equal(await page.locator("#status").isVisible(), true);
      const dot = () =>
        page.locator("#status").evaluate((e) => getComputedStyle(e, "::before").backgroundColor);
      const reconnecting = await dot();
      await page.unroute("**/events?*");
      await page.waitForSelector("#status[data-state='live']", { timeout: 15_000 });
      assert.equal(await page.locator("#status").textContent(), "Live");
      assert.notEqual(await dot(), reconnecting);

      // A+ twice: bigger text, and still bigger after a reload (remembered).
      const size = () =>
        page.evaluate(() =>
          parseFloat(getComputedStyle(document.querySelector("#transcript")!).fontSize)
        );
      await page.setViewportSize(DESKTOP);
      await page.goto(`${t.baseUrl}/s/${s.id}?captions`);
      await page.waitForSelector("#transcript .utterance.partial");
      assert.equal(await page.locator("#captions").getAttribute("aria-pressed"), "true");
      const before = await size();
      await page.click("#larger");
      await page.click("#larger");
      const after = await size();
      assert.ok(after > before * 1.2, `${before} → ${after}`);
      await page.reload();
      await page.waitForSelector("#transcript .utterance.partial");
      assert.equal(await size(), after);
      await page.click("#smaller");
      assert.ok((await size()) < after);

      // Fullscreen, where the browser offers it; Escape leaves caption mode.
      if (await page.evaluate(() => document.fullscreenEnabled)) {
        await page.click("#fullscreen");
        await waitFor(() => page.evaluate(() => document.fullscreenElement !== null));
        await page.waitForSelector("#fullscreen[aria-pressed='true']");
        await page.click("#fullscreen");
        await waitFor(() => page.evaluate(() => document.fullscreenElement === null));
      }
      await page.keyboard.press("Escape");
      assert.equal(await page.locator("#captions").getAttribute("aria-pressed"), "false");

      // Contrast ≥ 4.5:1 for every caption (partial ones too), and a high-contrast style.
      await page.click("#captions");
      const ratios = () =>
        page.evaluate(() => {
          const lum = (css: string) => {
            const [r, g, b] = css.match(/[\d.]+/g)!.slice(0, 3).map(Number).map((v) => {
              const c = v / 255;
              return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
            });
            return 0.2126 * r + 0.7152 * g + 0.0722 * b;
          };
          const bg = lum(getComputedStyle(document.body).backgroundColor);
          return [...document.querySelectorAll("#transcript .utterance:not(:nth-last-child(n+4))")]
            .map((li) => {
              const fg = lum(getComputedStyle(li.querySelector(".text")!).color);
              return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
            });
        });
      for (const r of await ratios()) assert.ok(r >= 4.5, `contrast ${r.toFixed(2)}`);
      await page.emulateMedia({ contrast: "more" });
      const partial = await page.evaluate(() =>
        getComputedStyle(document.querySelector(".utterance.partial .text")!).color
      );
      assert.equal(partial, "rgb(255, 255, 255)");
      for (const r of await ratios()) assert.ok(r >= 20, `high contrast ${r.toFixed(2)}`);
      await page.emulateMedia({ contrast: null, forcedColors: "active" });
      assert.equal(await page.locator("#transcript .utterance:visible").count(), 3);
      assert.deepEqual(errors, []);
    } finally {
      await b.close();
      await t.close();
    }
  },
});

Deno.test({
  name:
    "the viewer announces new final lines only (not the backlog), its status once per change, " +
    "and confidence in words",
  ...BROWSER_TEST,
  fn: async () => {
    const t = await startTestApp();
    const b = await launchBrowser();
    try {
      const s = await seedSession(t.store, [
        { text: "Stored line one." },
        { text: "Stored line two, heard badly.", confidence: 0.35 },
        { text: "Stored line three from a model without logprobs.", confidence: null },
      ]);
      const { page } = b;
      // Record what the live regions say, from before the viewer's script runs.
      await page.addInitScript(() => {
        const said: { region: string; text: string }[] = [];
        (globalThis as unknown as { said: typeof said }).said = said;
        new MutationObserver((records) => {
          for (const r of records) {
            const target = r.target as Element;
            const region = target.closest?.("[aria-live], [role=status]") ??
              target.parentElement?.closest("[aria-live], [role=status]");
            if (!region) continue;
            if (region.id === "announcer") {
              for (const n of r.addedNodes) {
                said.push({ region: "announcer", text: n.textContent! });
              }
            } else if (region.id === "status") {
              said.push({ region: "status", text: region.textContent! });
            }
          }
        }).observe(document, { subtree: true, childList: true, characterData: true });
      });
      await page.goto(`${t.baseUrl}/s/${s.id}`);
      await waitFor(async () => (await page.locator(".utterance.final").count()) === 3);
      const said = () =>
        page.evaluate(() =>
          (globalThis as unknown as { said: { region: string; text: string }[] }).said
        );
      // Confidence in words: the low line is underlined and says so; no logprobs says so.
      const line = (n: number) => page.locator(`[data-item-id='item_000${n}']`);
      assert.equal(await line(1).locator(".conf").textContent(), "");
      assert.equal(await line(2).locator(".conf").textContent(), "low confidence");
      assert.equal(await line(2).locator(".conf-sr").textContent(), " (low confidence)");
      assert.match(
        await line(2).locator(".text").evaluate((e) => getComputedStyle(e).textDecorationLine),
        /underline/,
      );
      assert.equal(await line(3).locator(".conf").textContent(), "no confidence reported");
      assert.equal(await line(3).locator(".conf").isVisible(), true);

      // Five live lines of many events each.
      await s.add([1, 2, 3, 4, 5].map((n) => ({ text: `Live line number ${n}.` })));
      await waitFor(async () => (await page.locator(".utterance.final").count()) === 8);
      await page.waitForTimeout(200);
      await s.end();
      await page.waitForSelector("#status[data-state='idle']");
      const heard = await said();
      assert.deepEqual(
        heard.filter((h) => h.region === "announcer").map((h) => h.text),
        [1, 2, 3, 4, 5].map((n) => `Live line number ${n}.`),
      );
      assert.deepEqual(
        // (The parser's "Loading…" is the page arriving, not a change.)
        heard.filter((h) => h.region === "status" && h.text !== "Loading…").map((h) => h.text),
        ["Live", "Ended"],
      );
    } finally {
      await b.close();
      await t.close();
    }
  },
});
