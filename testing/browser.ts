/**
 * Headless Chromium for end-to-end tests, with a fake microphone that plays a WAV file once.
 *
 * Uses Debian's `/usr/bin/chromium` through `playwright-core` (no browser download). Needs Deno
 * permissions to run Chromium (`--allow-run`), `--allow-env`, `--allow-read`, `--allow-write` (profile
 * directory) and `--allow-sys`; tests normally run with `-A`.
 *
 * @example
 * ```ts
 * import { makeSpeechWav } from "./speech.ts";
 * const wav = await makeSpeechWav("Hello there", { padStartSec: 1.5 });
 * const { page, close } = await launchBrowser({ fakeAudioWav: wav.path });
 * try {
 *   await page.goto("http://127.0.0.1:8000/");
 * } finally {
 *   await close();
 * }
 * ```
 *
 * @module
 */

import { type Browser, type BrowserContext, chromium, type Page } from "npm:playwright-core@1.65.1";

/** Options for {@linkcode launchBrowser}. */
export interface LaunchBrowserOptions {
  /**
   * WAV file the fake microphone plays once, from when capture starts (`getUserMedia`), then
   * silence. Relative paths are resolved against the current directory. Without it Chromium's fake
   * microphone plays a beep pattern, so pass a silent WAV (`makeSilenceWav`) for "no speech".
   */
  fakeAudioWav?: string;
  /** Chromium binary (default `$CHROMIUM_PATH` or `/usr/bin/chromium`). */
  executablePath?: string;
  /** Extra Chromium flags. */
  args?: string[];
  /** Print the page's console messages and errors to stderr, prefixed (default false). */
  logConsole?: boolean;
}

/** A launched browser with one context and page. */
export interface LaunchedBrowser {
  /** The Chromium instance. */
  browser: Browser;
  /** A context with microphone permission granted. */
  context: BrowserContext;
  /** A blank page in that context. */
  page: Page;
  /** Closes the context and the browser (waits for the process to exit). Safe to call twice. */
  close(): Promise<void>;
}

/** Flags every test browser gets (see `../shared/offline-webrtc.md`). */
export const CHROMIUM_FLAGS: readonly string[] = [
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
  // Lets ICE use 127.0.0.1 on loopback-only machines (the server peer adds it too).
  "--allow-loopback-in-peer-connection",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
  "--autoplay-policy=no-user-gesture-required",
];

function defaultExecutable(): string {
  try {
    return Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
  } catch {
    return "/usr/bin/chromium";
  }
}

/**
 * Launches headless Chromium with a fake microphone and returns a page whose context may use it.
 *
 * @param options Fake microphone file, binary, extra flags, console logging.
 * @returns The browser, context, page and a `close` function; call `close` in test teardown.
 * @throws {Error} If the WAV file or the Chromium binary is missing.
 */
export async function launchBrowser(
  options: LaunchBrowserOptions = {},
): Promise<LaunchedBrowser> {
  const args = [...CHROMIUM_FLAGS, ...(options.args ?? [])];
  if (options.fakeAudioWav !== undefined) {
    let wav: string;
    try {
      wav = await Deno.realPath(options.fakeAudioWav);
    } catch (error) {
      throw new Error(`Fake microphone WAV not found: ${options.fakeAudioWav}`, {
        cause: error,
      });
    }
    // %noloop: play once, then silence (the file would loop otherwise).
    args.push(`--use-file-for-fake-audio-capture=${wav}%noloop`);
  }
  const executablePath = options.executablePath ?? defaultExecutable();
  try {
    await Deno.stat(executablePath);
  } catch (error) {
    throw new Error(
      `Chromium not found at ${executablePath}: apt-get install -y chromium`,
      { cause: error },
    );
  }
  const browser = await chromium.launch({ executablePath, headless: true, args });
  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= (async () => {
      try {
        await context?.close();
      } catch {
        // The browser may already be gone.
      }
      await browser.close();
    })();
  let context: BrowserContext | undefined;
  try {
    context = await browser.newContext({ permissions: ["microphone"] });
    const page = await context.newPage();
    if (options.logConsole) {
      page.on("console", (m) => console.error(`[page ${m.type()}] ${m.text()}`));
      page.on("pageerror", (e) => console.error(`[page error] ${e.message}`));
    }
    return { browser, context, page, close };
  } catch (error) {
    await close();
    throw error;
  }
}
