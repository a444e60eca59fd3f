import assert from "node:assert/strict";
import { checkA11y } from "./a11y_kit.ts";
import { launchBrowser } from "./browser.ts";

Deno.test({
  name: "a11y kit: axe finds a known violation and passes a clean page",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { page, close } = await launchBrowser();
    try {
      await page.setContent(
        `<!doctype html><html lang="en"><head><title>t</title></head><body><main><h1>Hi</h1>` +
          `<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></main></body></html>`,
      );
      const bad = await checkA11y(page, "image without alt");
      assert.ok(bad.blocking.some((v) => v.id === "image-alt"), JSON.stringify(bad));
      await page.setContent(
        `<!doctype html><html lang="en"><head><title>t</title></head><body><main><h1>Hi</h1>` +
          `<p>Plain text.</p></main></body></html>`,
      );
      const good = await checkA11y(page, "clean page");
      assert.deepEqual(good.blocking, []);
    } finally {
      await close();
    }
  },
});
