import assert from "node:assert/strict";
import { createFetchHandler } from "../main.tsx";
import { startupPageHtml, wantsPage } from "./startup_page.ts";

const SECRET = "sk-test-do-not-show-0123456789abcdef";

/** A handler built from a misconfigured environment (its key is a secret that must not leak). */
function misconfigured() {
  return createFetchHandler(() => ({
    OPENAI_API_KEY: SECRET,
    SIGNALING: `peer-to-peer-${SECRET}`,
    DATABASE_URL: ":memory:",
  }));
}

Deno.test("a browser asking for the page of a misconfigured val gets a real HTML page", async () => {
  const handler = misconfigured();
  const res = await handler(
    new Request("http://val.test/", { headers: { accept: "text/html,*/*;q=0.8" } }),
  );
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("access-control-allow-origin"), "http://val.test");
  assert.match(res.headers.get("content-type")!, /^text\/html/);
  assert.match(res.headers.get("content-security-policy")!, /default-src 'none'/);
  const html = await res.text();
  assert.match(html, /<html lang="en">/);
  assert.match(html, /<title>[^<]+<\/title>/);
  assert.match(html, /<h1>This app cannot start right now<\/h1>/);
  assert.match(html, /settings \(SIGNALING\) has a value it cannot use/);
  assert.match(html, /<a href="">Try again<\/a>/);
  assert.ok(!html.includes(SECRET), "no secret and no value on the page");
  assert.ok(!html.includes("peer-to-peer"));
});

Deno.test("the API and JSON clients of a misconfigured val still get JSON", async () => {
  const handler = misconfigured();
  for (
    const req of [
      new Request("http://val.test/api/config", { headers: { accept: "text/html" } }),
      new Request("http://val.test/", { headers: { accept: "application/json" } }),
      new Request("http://val.test/"),
    ]
  ) {
    const res = await handler(req);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("retry-after"), "5");
    // The app's own origin, so Val Town's `*` default never applies to these either.
    assert.equal(res.headers.get("access-control-allow-origin"), "http://val.test");
    const body = await res.json();
    assert.equal(body.error.code, "startup_failed");
    assert.match(body.error.message, /SIGNALING/);
    assert.ok(!JSON.stringify(body).includes(SECRET));
  }
});

Deno.test("the startup page escapes what it shows", () => {
  const html = startupPageHtml({ message: `<script>alert("x")</script>`, variable: null });
  assert.ok(!html.includes("<script>"));
  assert.match(html, /&lt;script&gt;alert\(&quot;x&quot;\)/);
  assert.match(html, /find why in its logs/);
});

Deno.test("only GETs that accept HTML outside /api get the page", () => {
  const html = { accept: "text/html" };
  assert.equal(wantsPage(new Request("http://v/", { headers: html })), true);
  assert.equal(wantsPage(new Request("http://v/s/abc", { headers: html })), true);
  assert.equal(wantsPage(new Request("http://v/api/session", { headers: html })), false);
  assert.equal(
    wantsPage(new Request("http://v/", { method: "POST", headers: html })),
    false,
  );
  assert.equal(wantsPage(new Request("http://v/", { headers: { accept: "*/*" } })), false);
});
