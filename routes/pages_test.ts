import assert from "node:assert/strict";
import { startTestApp } from "../testing/server.ts";
import { valTownEnvVarsUrl } from "./pages.ts";

Deno.test("GET / and the page's modules are served with content types and revalidation", async () => {
  const t = await startTestApp();
  try {
    const page = await fetch(`${t.baseUrl}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(page.headers.get("cache-control"), "no-cache");
    const html = await page.text();
    assert.match(html, /<button id="start"/);
    const etag = page.headers.get("etag")!;
    assert.ok(etag);
    const again = await fetch(`${t.baseUrl}/`, {
      headers: { "if-none-match": etag },
    });
    assert.equal(again.status, 304);
    await again.body?.cancel();

    const js = await fetch(`${t.baseUrl}/frontend/connection.js`);
    assert.equal(
      js.headers.get("content-type"),
      "text/javascript; charset=utf-8",
    );
    assert.match(await js.text(), /export async function connect/);
    const shared = await fetch(`${t.baseUrl}/shared/transcript.js`);
    assert.equal(shared.status, 200);
    assert.equal(
      shared.headers.get("content-type"),
      "text/javascript; charset=utf-8",
    );
    await shared.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("static routes refuse traversal, unknown types and missing files with 404 JSON", async () => {
  const t = await startTestApp();
  try {
    for (
      const path of [
        "/frontend/%2e%2e/deno.json",
        "/frontend/..%2fdeno.json",
        "/shared/%2e%2e%2flib%2fconfig.ts",
        "/frontend/app.ts",
        "/frontend/missing.js",
        "/frontend/",
      ]
    ) {
      const res = await fetch(`${t.baseUrl}${path}`);
      assert.equal(res.status, 404, path);
      const body = await res.json();
      assert.equal(body.error.code, "not_found", path);
    }
  } finally {
    await t.close();
  }
});

Deno.test("GET /api/config describes the mode without any secret", async () => {
  const t = await startTestApp({ demo: true });
  try {
    const c = await (await fetch(`${t.baseUrl}/api/config`)).json();
    assert.equal(c.demo, true);
    assert.match(
      c.demoMessage,
      /offline demo — transcripts are placeholders, set OPENAI_API_KEY/i,
    );
    assert.equal(c.hasKey, true);
    assert.equal(c.keyHelp, null);
    assert.equal(c.platform, "local");
    assert.equal(c.defaultModel, "gpt-live-transcribe");
    const text = JSON.stringify(c);
    for (
      const secret of [
        t.emulator.apiKey,
        t.deps.config.signingSecret,
        t.deps.config.internalSecret,
      ]
    ) {
      assert.ok(!text.includes(secret));
    }
  } finally {
    await t.close();
  }
});

Deno.test("GET /api/config on Val Town without a key says which variable to set and where", async () => {
  const t = await startTestApp({
    noKey: true,
    platform: "valtown",
    env: {
      VALTOWN_ENTRYPOINT: "https://esm.town/v/alice/hello-transcription/main.tsx",
    },
  });
  try {
    const c = await (await fetch(`${t.baseUrl}/api/config`)).json();
    assert.equal(c.hasKey, false);
    assert.equal(c.platform, "valtown");
    assert.equal(c.keyHelp.envVar, "OPENAI_API_KEY");
    assert.equal(
      c.keyHelp.url,
      "https://www.val.town/x/alice/hello-transcription/environment-variables?key=OPENAI_API_KEY",
    );
    assert.match(c.keyHelp.message, /OPENAI_API_KEY/);
  } finally {
    await t.close();
  }
});

Deno.test("valTownEnvVarsUrl() derives the env page from module URLs", () => {
  assert.equal(
    valTownEnvVarsUrl("https://esm.town/v/bob/captions@12-main/main.tsx"),
    "https://www.val.town/x/bob/captions/environment-variables?key=OPENAI_API_KEY",
  );
  assert.equal(valTownEnvVarsUrl("file:///work/main/main.tsx"), null);
  assert.equal(valTownEnvVarsUrl(undefined), null);
});
