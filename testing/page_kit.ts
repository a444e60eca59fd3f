/**
 * Shared set-up for the page's browser tests (`testing/page_*_test.ts`): the whole app on
 * loopback against the emulator, headless Chromium with a fake microphone, the page loaded.
 *
 * @module
 */
import type { Page } from "npm:playwright-core@1.65.1";
import { startTestApp, type TestApp, type TestAppOptions } from "./server.ts";
import { launchBrowser, type LaunchedBrowser } from "./browser.ts";

/** Options for {@linkcode openPage}. */
export interface OpenPageOptions extends TestAppOptions {
  /** WAV the fake microphone plays once. */
  wav?: string;
  /** Viewport (default 1280×900). */
  viewport?: { width: number; height: number };
  /** Print the page's console to stderr. */
  logConsole?: boolean;
  /** Runs in the page before any of its scripts (see {@linkcode LoadPageOptions}). */
  initScript?: () => void;
  /** Path and query to open (see {@linkcode LoadPageOptions}). */
  path?: string;
}

/** A loaded page with its app; `close()` stops both. */
export interface OpenedPage {
  app: TestApp;
  browser: LaunchedBrowser;
  page: Page;
  /** Uncaught page errors and Content-Security-Policy violations seen so far. */
  pageErrors: string[];
  close(): Promise<void>;
}

/** Options for {@linkcode loadPage}. */
export interface LoadPageOptions {
  /** WAV the fake microphone plays once. */
  wav?: string;
  /** Viewport (default 1280×900). */
  viewport?: { width: number; height: number };
  /** Print the page's console to stderr. */
  logConsole?: boolean;
  /** Runs in the page before any of its scripts (e.g. to wrap `RTCPeerConnection`). */
  initScript?: () => void;
  /** Path and query to open (default `/`; `/?debug` shows the event log). */
  path?: string;
}

/**
 * Launches Chromium with a fake microphone and opens the app at `baseUrl` (waits until settings
 * are bound); collects uncaught page errors and Content-Security-Policy violations.
 */
export async function loadPage(
  baseUrl: string,
  options: LoadPageOptions = {},
): Promise<{ browser: LaunchedBrowser; page: Page; pageErrors: string[] }> {
  const browser = await launchBrowser({
    fakeAudioWav: options.wav,
    logConsole: options.logConsole,
  });
  try {
    const { page } = browser;
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    // Content-Security-Policy violations are console errors, not page errors.
    page.on("console", (m) => {
      if (m.type() === "error" && /Refused to|Content Security Policy/i.test(m.text())) {
        pageErrors.push(m.text());
      }
    });
    if (options.initScript) await page.addInitScript(options.initScript);
    await page.setViewportSize(options.viewport ?? { width: 1280, height: 900 });
    await page.goto(new URL(options.path ?? "/", baseUrl).href);
    await page.waitForSelector("body[data-ready]");
    return { browser, page, pageErrors };
  } catch (err) {
    await browser.close();
    throw err;
  }
}

/** Starts the app, launches Chromium and opens the page (waits until settings are bound). */
export async function openPage(
  options: OpenPageOptions = {},
): Promise<OpenedPage> {
  const app = await startTestApp(options);
  try {
    const { browser, page, pageErrors } = await loadPage(app.baseUrl, options);
    return {
      app,
      browser,
      page,
      pageErrors,
      async close() {
        await browser.close();
        await app.close();
      },
    };
  } catch (err) {
    await app.close();
    throw err;
  }
}

/** Opens the settings' "Advanced" part (closed on a first visit). */
export async function openAdvanced(page: Page): Promise<void> {
  if (!await page.locator("#advanced").getAttribute("open")) {
    await page.click("#advanced summary");
  }
}

/** The texts of the final lines on the page, in order. */
export function finalTexts(page: Page): Promise<string[]> {
  return page.locator("#transcript .utterance.final .text").allTextContents();
}

/**
 * Test options for browser tests: the emulator's werift peer keeps Node crypto cipher handles
 * (DTLS) until garbage collection, which Deno's resource sanitizer reports as leaks even though
 * `close()` has stopped every server, socket and process.
 */
export const BROWSER_TEST = {
  sanitizeResources: false,
  sanitizeOps: false,
} as const;
