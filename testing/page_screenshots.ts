/**
 * Takes the README screenshots of the page at desktop (1280 px) and phone (390 px) widths, and of
 * the share viewer following that session on a phone: `docs/screenshot-desktop.png`,
 * `docs/screenshot-phone.png`, `docs/screenshot-viewer-phone.png`.
 *
 * Run: `deno run -A testing/page_screenshots.ts [outDir]`
 *
 * @module
 */
import { makeUtterancesWav } from "./speech.ts";
import { openPage } from "./page_kit.ts";

/** Options for {@linkcode takeScreenshots}. */
export interface ScreenshotOptions {
  /** Output directory (default `docs`). */
  outDir?: string;
}

/** Runs a short captioned session against the emulator and saves the screenshots. */
export async function takeScreenshots(
  options: ScreenshotOptions = {},
): Promise<string[]> {
  const outDir = options.outDir ?? "docs";
  const spoken = [
    "Welcome to the weekly planning meeting.",
    "First item, the release is on Thursday.",
    "Questions go in the shared document.",
    "Let us get started.",
  ];
  const wav = await makeUtterancesWav(spoken, {
    padStartSec: 1,
    gapSec: 1.2,
    padEndSec: 2,
  });
  const saved: string[] = [];
  for (
    const [name, viewport] of [
      ["desktop", { width: 1280, height: 820 }],
      ["phone", { width: 390, height: 844 }],
    ] as const
  ) {
    const t = await openPage({
      wav: wav.path,
      viewport,
      emulator: { firstDeltaDelayMs: 10, completedDelayMs: 900 },
    });
    try {
      t.app.emulator.control.queueTranscripts(spoken);
      await t.page.click("#start");
      await t.page.waitForFunction(
        () => document.querySelectorAll("#transcript .utterance.final").length >= 3,
        undefined,
        { timeout: 30_000 },
      );
      // Catch the fourth line while it is still partial, when possible.
      await t.page.waitForSelector("#transcript .utterance.partial", {
        timeout: 5000,
      })
        .catch(() => {});
      const path = `${outDir}/screenshot-${name}.png`;
      await t.page.screenshot({ path, fullPage: name === "phone" });
      saved.push(path);
      if (name === "phone") {
        // The same session as a reader of its share link sees it, on a phone.
        const { sessions } = await t.app.store.listSessions({ limit: 1 });
        const reader = await t.browser.context.newPage();
        await reader.setViewportSize(viewport);
        await reader.goto(`${t.app.baseUrl}/s/${sessions[0].id}`);
        await reader.waitForSelector("#transcript .utterance.final");
        await reader.waitForTimeout(300);
        const viewerPath = `${outDir}/screenshot-viewer-phone.png`;
        await reader.screenshot({ path: viewerPath });
        saved.push(viewerPath);
        await reader.close();
      }
      await t.page.click("#stop");
    } finally {
      await t.close();
    }
  }
  return saved;
}

if (import.meta.main) {
  console.log((await takeScreenshots({ outDir: Deno.args[0] })).join("\n"));
}
