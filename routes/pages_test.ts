import assert from "node:assert/strict";
import { startTestApp } from "../testing/server.ts";

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
