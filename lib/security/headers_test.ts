import assert from "node:assert/strict";
import { Hono } from "npm:hono@4.13.19";
import { contentSecurityPolicy, securityHeaders } from "./headers.ts";

function app() {
  const a = new Hono();
  a.use(securityHeaders({ realtimeBaseUrl: "https://api.openai.com/" }));
  a.get("/", (c) => c.html("<p>hi</p>"));
  a.get("/api/x", (c) => c.json({ ok: true }));
  a.get(
    "/api/cached",
    (c) => c.json({ ok: true }, 200, { "Cache-Control": "max-age=60" }),
  );
  a.get("/boom", () => {
    throw new Error("boom");
  });
  // A fetched response: its headers are immutable.
  a.get("/passthrough", () => fetch("data:text/plain,hi"));
  a.onError((_e, c) => c.json({ error: { code: "internal_error", message: "x" } }, 500));
  return a;
}

Deno.test("securityHeaders sets the CSP with the Realtime origin and no inline script", async () => {
  const res = await app().request("/");
  const csp = res.headers.get("content-security-policy") ?? "";
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /connect-src 'self' https:\/\/api\.openai\.com(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /base-uri 'none'/);
  assert.match(csp, /form-action 'self'/);
  assert.match(csp, /media-src 'self' blob:/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(res.headers.get("referrer-policy"), "no-referrer");
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  assert.match(
    res.headers.get("permissions-policy") ?? "",
    /microphone=\(self\)/,
  );
  assert.equal(res.headers.get("cache-control"), null);
});

Deno.test("securityHeaders covers API, error and 404 responses; API gets no-store", async () => {
  const a = app();
  const api = await a.request("/api/x");
  assert.equal(api.headers.get("cache-control"), "no-store");
  assert.ok(api.headers.get("content-security-policy"));
  const cached = await a.request("/api/cached");
  assert.equal(cached.headers.get("cache-control"), "max-age=60");
  const err = await a.request("/boom");
  assert.equal(err.status, 500);
  assert.equal(err.headers.get("x-content-type-options"), "nosniff");
  const missing = await a.request("/nope");
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get("x-frame-options"), "DENY");
  // A response with immutable headers (as `fetch` returns) is copied, then gets the headers too.
  const passed = await a.request("/passthrough");
  assert.equal(await passed.text(), "hi");
  assert.ok(passed.headers.get("content-security-policy"));
  assert.equal(passed.headers.get("referrer-policy"), "no-referrer");
});

Deno.test("contentSecurityPolicy uses only the origin of the base URL", () => {
  assert.match(
    contentSecurityPolicy("http://127.0.0.1:4010/some/path"),
    /connect-src 'self' http:\/\/127\.0\.0\.1:4010;/,
  );
  assert.match(contentSecurityPolicy("not a url"), /connect-src 'self';/);
});
