/**
 * axe-core over every state a reader meets, in Chromium (`a11y_kit.ts`): the main page at desktop
 * (1280×800) and phone (390×844) widths — idle, each error state the emulator and the browser can
 * produce (rate limited, upstream down, key invalid, microphone denied, a bad setting), live with
 * speech, a long transcript (≥ 100 lines), caption mode, after Stop — the share viewer live,
 * in caption mode and ended at both widths, and the startup-error page; each in light and dark.
 * Any serious or critical violation fails; moderate and minor ones are listed in the output.
 *
 * Run alone: `deno test -A testing/a11y_test.ts` (prints a table: state | blocking | advisory).
 */
import assert from "node:assert/strict";
import type { Page } from "npm:playwright-core@1.65.1";
import { type A11yReport, checkA11y, formatViolations } from "./a11y_kit.ts";
import { launchBrowser } from "./browser.ts";
import { BROWSER_TEST, openAdvanced, openPage } from "./page_kit.ts";
import { startTestApp, waitFor } from "./server.ts";
import { makeSpeechWav } from "./speech.ts";
import { sampleLines, seedSession } from "./viewer_kit.ts";
import { createFetchHandler } from "../main.tsx";

const WIDTHS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

/** Every report of this run, printed as a table when a test ends. */
function table(reports: A11yReport[]): string {
  const rows = reports.map((r) =>
    `  ${r.label.padEnd(44)} ${String(r.blocking.length).padStart(3)} ${
      String(r.advisory.length).padStart(3)
    }  ${[...r.blocking, ...r.advisory].map((v) => `${v.id}(${v.impact})`).join(" ")}`
  );
  return `  ${"state".padEnd(44)} blk adv  rules\n${rows.join("\n")}`;
}

/** Checks one state in light and dark; returns the reports. */
async function checkBoth(page: Page, label: string): Promise<A11yReport[]> {
  const out: A11yReport[] = [];
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    // Let transitions settle so contrast is measured on the final colours.
    await page.waitForTimeout(150);
    out.push(await checkA11y(page, `${label} (${scheme})`));
  }
  await page.emulateMedia({ colorScheme: "light" });
  return out;
}

/** Fails on any serious or critical violation; prints every violation found. */
function judge(reports: A11yReport[]) {
  console.log(table(reports));
  const failures: string[] = [];
  for (const r of reports) {
    if (r.blocking.length + r.advisory.length > 0) console.log(formatViolations(r));
    if (r.blocking.length) failures.push(formatViolations({ ...r, advisory: [] }));
  }
  assert.deepEqual(failures, [], failures.join("\n"));
}

for (const [width, viewport] of Object.entries(WIDTHS)) {
  Deno.test({
    name: `axe: the main page at ${width} width, idle, errors, live, long, captions, stopped`,
    ...BROWSER_TEST,
    fn: async () => {
      const wav = await makeSpeechWav("Checking what a reader meets on this page.", {
        padStartSec: 3,
        padEndSec: 1,
      });
      const t = await openPage({
        wav: wav.path,
        viewport,
        env: { RATE_MINTS_PER_MINUTE_PER_IP: "1000" },
        emulator: { completedDelayMs: 20 },
      });
      const reports: A11yReport[] = [];
      const label = (state: string) => `main ${width}: ${state}`;
      try {
        const { page, app } = t;
        const message = page.locator("#message");
        reports.push(...await checkBoth(page, label("idle")));

        /** Start, wait for the failure's message and the settled status, check. */
        const failedStart = async (state: string) => {
          await page.click("#start");
          await message.waitFor({ state: "visible", timeout: 30_000 });
          await page.waitForSelector("#status[data-state='idle']");
          reports.push(...await checkBoth(page, label(state)));
          app.emulator.control.faults.clear();
        };
        // The pre-mint and Start's mint each retry once, so a fault is queued six deep.
        app.emulator.control.failRest({ endpoint: "client_secrets", count: 6, status: 500 });
        await failedStart("upstream down");
        app.emulator.control.failRest({
          endpoint: "client_secrets",
          count: 6,
          status: 401,
          body: {
            error: {
              message: "Incorrect API key provided.",
              type: "invalid_request_error",
              code: "invalid_api_key",
            },
          },
        });
        await failedStart("key invalid");
        await page.evaluate(() => {
          const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
          navigator.mediaDevices.getUserMedia = () =>
            Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
          (globalThis as unknown as { restoreMic: () => void }).restoreMic = () => {
            navigator.mediaDevices.getUserMedia = original;
          };
        });
        await failedStart("mic denied");
        await page.evaluate(() =>
          (globalThis as unknown as { restoreMic: () => void }).restoreMic()
        );
        // A bad setting: a language code the server refuses (the panel starts closed on phones).
        await page.evaluate(() => {
          (document.getElementById("settings-panel") as HTMLDetailsElement).open = true;
        });
        await openAdvanced(page);
        await page.selectOption("#model", "gpt-transcribe");
        await page.fill("#languages", "not a language");
        await failedStart("bad setting");
        await page.fill("#languages", "");
        await page.selectOption("#model", "gpt-live-transcribe");
        app.emulator.control.failRest({ endpoint: "client_secrets", count: 6, status: 429 });
        await failedStart("rate limited");
        await page.waitForSelector("#start:not([disabled])", { timeout: 60_000 });

        // Live, with speech through the emulator.
        await page.click("#start");
        await page.waitForSelector("#status[data-state='live']", { timeout: 30_000 });
        await page.waitForSelector("#transcript .utterance.final", { timeout: 40_000 });
        reports.push(...await checkBoth(page, label("live")));

        // A long transcript: a hundred more turns, committed by the page's own control.
        const more = Array.from({ length: 100 }, (_, i) => `Line ${i + 2} of a long talk.`);
        app.emulator.control.queueTranscripts(more);
        const finals = () => page.locator("#transcript .utterance.final").count();
        const want = (await finals()) + 100;
        for (let i = 0; i < 100; i++) {
          await page.evaluate(() => (document.getElementById("commit") as HTMLElement).click());
          await page.waitForTimeout(140);
        }
        await waitFor(async () => (await finals()) >= want, {
          timeoutMs: 30_000,
          message: "a hundred more lines",
        });
        reports.push(...await checkBoth(page, label("long transcript")));

        await page.click("#captions");
        reports.push(...await checkBoth(page, label("caption mode")));
        await page.click("#captions").catch(() => page.keyboard.press("Escape"));
        if (await page.evaluate(() => document.body.classList.contains("captions"))) {
          await page.keyboard.press("Escape");
        }

        await page.click("#stop");
        await page.waitForSelector("#status[data-state='idle']", { timeout: 30_000 });
        reports.push(...await checkBoth(page, label("after Stop")));
        judge(reports);
      } finally {
        await t.close();
      }
    },
  });
}

Deno.test({
  name: "axe: the share viewer live, in caption mode, ended and not found, at both widths",
  ...BROWSER_TEST,
  fn: async () => {
    const t = await startTestApp();
    const b = await launchBrowser();
    const reports: A11yReport[] = [];
    try {
      const lines = sampleLines(30);
      lines[4].confidence = 0.3;
      lines[7].confidence = null;
      const s = await seedSession(t.store, lines);
      await s.add([{ text: "And this one is still being", partial: true }]);
      const { page } = b;
      for (const [width, viewport] of Object.entries(WIDTHS)) {
        await page.setViewportSize(viewport);
        await page.goto(`${t.baseUrl}/s/${s.id}`);
        await page.waitForSelector("#transcript .utterance.partial");
        await page.waitForSelector("#status:not([data-state='idle'])");
        reports.push(...await checkBoth(page, `viewer ${width}: live`));
        if (await page.locator("#captions").count()) {
          await page.click("#captions");
          reports.push(...await checkBoth(page, `viewer ${width}: caption mode`));
          await page.keyboard.press("Escape");
        }
        await page.goto(`${t.baseUrl}/s/${"Z".repeat(22)}`);
        await page.locator("#message").waitFor({ state: "visible" });
        reports.push(...await checkBoth(page, `viewer ${width}: not found`));
      }
      await s.end();
      for (const [width, viewport] of Object.entries(WIDTHS)) {
        await page.setViewportSize(viewport);
        await page.goto(`${t.baseUrl}/s/${s.id}`);
        await page.waitForSelector("#status[data-state='idle']");
        await page.waitForSelector("#transcript .utterance");
        reports.push(...await checkBoth(page, `viewer ${width}: ended`));
      }
      judge(reports);
    } finally {
      await b.close();
      await t.close();
    }
  },
});

Deno.test({
  name: "axe: a real session seen in the viewer says when its model reports no confidence",
  ...BROWSER_TEST,
  fn: async () => {
    const wav = await makeSpeechWav("A line from a model that sends no logprobs.", {
      padStartSec: 3,
      padEndSec: 1,
    });
    const t = await openPage({
      wav: wav.path,
      emulator: { completedDelayMs: 20, omitLogprobsModels: ["gpt-live-transcribe"] },
    });
    const viewer = await launchBrowser();
    try {
      const { page, app } = t;
      await page.click("#start");
      await page.waitForSelector("#transcript .utterance.final", { timeout: 40_000 });
      const { sessions } = await app.store.listSessions({ limit: 1 });
      await viewer.page.setViewportSize(WIDTHS.phone);
      await viewer.page.goto(`${app.baseUrl}/s/${sessions[0].id}`);
      await viewer.page.waitForSelector("#transcript .utterance.final");
      assert.equal(
        await viewer.page.locator("#transcript .utterance.final .conf").first().textContent(),
        "no confidence reported",
      );
      const reports = await checkBoth(viewer.page, "viewer phone: live from a real session");
      await page.click("#stop");
      await page.waitForSelector("#status[data-state='idle']", { timeout: 30_000 });
      judge(reports);
    } finally {
      await viewer.close();
      await t.close();
    }
  },
});

Deno.test({
  name: "axe: the startup-error page of a misconfigured val (title, language, heading, no JSON)",
  ...BROWSER_TEST,
  fn: async () => {
    const handler = createFetchHandler(() => ({
      OPENAI_API_KEY: "sk-test-not-shown-0123456789",
      SIGNALING: "sideways",
      DATABASE_URL: ":memory:",
    }));
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
    const b = await launchBrowser();
    const reports: A11yReport[] = [];
    try {
      const { page } = b;
      const errors: string[] = [];
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      for (const [width, viewport] of Object.entries(WIDTHS)) {
        await page.setViewportSize(viewport);
        const res = await page.goto(`http://127.0.0.1:${server.addr.port}/`);
        assert.equal(res?.status(), 503);
        assert.match(await page.title(), /\S/);
        assert.equal(await page.getAttribute("html", "lang"), "en");
        assert.equal(await page.locator("h1").count(), 1);
        assert.equal(await page.getByRole("link", { name: "Try again" }).count(), 1);
        const text = await page.locator("body").innerText();
        assert.ok(!text.includes("sk-test") && !text.includes("sideways") && !text.includes("{"));
        reports.push(...await checkBoth(page, `startup error ${width}`));
      }
      // Console errors would include a Content-Security-Policy refusal of the page's own style
      // (503 itself is reported as a failed resource load, which is expected).
      assert.deepEqual(errors.filter((e) => !/503/.test(e)), []);
      judge(reports);
    } finally {
      await b.close();
      await server.shutdown();
    }
  },
});
