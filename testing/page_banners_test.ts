/**
 * Banners from `GET /api/config`: the offline demo, a missing key (locally, and on Val Town with
 * exactly which variable to set and where), and the public-page caps. The local no-key case runs
 * against a real app without a key; the demo and Val Town cases serve the real `/api/config`
 * answer with only the fields those deployments change (the test app cannot be either).
 */
import assert from "node:assert/strict";
import { BROWSER_TEST, openPage } from "./page_kit.ts";

Deno.test("banners explain demo mode, the missing key and the caps", BROWSER_TEST, async () => {
  const t = await openPage({ noKey: true });
  try {
    const { page } = t;
    const banners = () => page.locator("#banners .banner").allTextContents();
    let shown = await banners();
    assert.equal(shown.length, 2, shown.join(" | "));
    assert.match(shown[0], /^No OpenAI API key\. Set OPENAI_API_KEY in the server's environment/);
    assert.match(
      shown[1],
      /^This page is public\. Usage is capped: 10 starts per minute, 15 min per session/,
    );
    assert.equal(
      await page.locator("#banners .banner code").first().textContent(),
      "OPENAI_API_KEY",
    );

    /** Serves the real config with some fields replaced. */
    const real = await (await fetch(`${t.app.baseUrl}/api/config`)).json();
    const override = async (patch: Record<string, unknown>) => {
      await page.unroute("**/api/config");
      await page.route("**/api/config", (route) => route.fulfill({ json: { ...real, ...patch } }));
      await page.reload();
      await page.waitForSelector("body[data-ready]");
      return await banners();
    };

    shown = await override({ demo: true, hasKey: true, keyHelp: null });
    assert.equal(
      shown[0],
      "offline demo — transcripts are placeholders, set OPENAI_API_KEY for real ones",
    );
    assert.equal(shown.length, 2);

    const url =
      "https://www.val.town/x/alice/hello-transcription/environment-variables?key=OPENAI_API_KEY";
    shown = await override({
      platform: "valtown",
      hasKey: false,
      keyHelp: { envVar: "OPENAI_API_KEY", url, message: "Set it." },
    });
    assert.match(
      shown[0],
      /^No OpenAI API key\. To turn transcription on, open this val's Environment variables, add OPENAI_API_KEY with your key from platform\.openai\.com\/api-keys, then reload this page\.$/,
    );
    assert.equal(await page.locator("#banners .banner a").getAttribute("href"), url);

    // A link that is not Val Town's is never rendered; the text still says where to go.
    shown = await override({
      platform: "valtown",
      hasKey: false,
      keyHelp: { envVar: "OPENAI_API_KEY", url: "javascript:alert(1)", message: "" },
    });
    assert.equal(await page.locator("#banners .banner a").count(), 0);
    assert.match(shown[0], /open this val in Val Town → sidebar → Environment variables/);

    shown = await override({ access: "access_code" });
    assert.ok(
      !shown.some((s) => s.startsWith("This page is public")),
      "no public notice behind a code",
    );
    assert.deepEqual(t.pageErrors, []);
  } finally {
    await t.close();
  }
});
