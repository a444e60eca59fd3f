import assert from "node:assert/strict";
import { Hono } from "npm:hono@4.13.19";
import { assembleDeps } from "../lib/setup.ts";
import { loadConfig } from "../lib/config.ts";
import { createFileReader } from "../lib/files.ts";
import { openStore } from "../lib/store/mod.ts";
import { securityMiddleware } from "../lib/security/mod.ts";
import { ACCESS_COOKIE } from "../lib/security/access.ts";
import { authRoutes, safeNext } from "./auth.ts";
import { insideOneWindow } from "../testing/clock.ts";

/** The security chain + sign-in routes + one page and one API route, served on loopback. */
async function serve(env: Record<string, string>) {
  const config = await loadConfig({ OPENAI_API_KEY: "sk-test-auth", ...env });
  const store = await openStore(config, { url: ":memory:" });
  const deps = assembleDeps({
    config,
    store,
    readFile: createFileReader({ platform: "local" }),
  });
  const app = new Hono();
  app.use(...securityMiddleware(deps));
  app.get("/", (c) => c.html("<p>the app</p>"));
  app.get("/api/config", (c) => c.json({ ok: true }));
  app.route("/auth", authRoutes(deps));
  const server = Deno.serve({
    port: 0,
    hostname: "127.0.0.1",
    onListen: () => {},
  }, app.fetch);
  const base = `http://127.0.0.1:${server.addr.port}`;
  return {
    base,
    store,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await store.close();
    },
  };
}

function form(fields: Record<string, string>, origin: string): RequestInit {
  return {
    method: "POST",
    redirect: "manual",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      Origin: origin,
    },
    body: new URLSearchParams(fields).toString(),
  };
}

Deno.test("sign-in: page redirects, wrong code 401, right code sets a strict HttpOnly cookie", async () => {
  await using s = await serve({ ACCESS_CODE: "open-sesame-please" });
  const first = await fetch(`${s.base}/`, {
    redirect: "manual",
    headers: { Accept: "text/html" },
  });
  await first.body?.cancel();
  assert.equal(first.status, 302);
  assert.equal(first.headers.get("location"), "/auth/signin?next=%2F");

  const page = await fetch(`${s.base}/auth/signin?next=%2F%22%3E%3Cscript%3E`);
  const html = await page.text();
  assert.equal(page.status, 200);
  assert.match(html, /<form method="post" action="\/auth\/signin">/);
  assert.doesNotMatch(
    html,
    /<script/i,
    "no script at all, and `next` cannot inject one",
  );
  assert.match(
    page.headers.get("content-security-policy") ?? "",
    /script-src 'self'/,
  );

  const css = await fetch(`${s.base}/auth/signin.css`);
  assert.equal(css.status, 200);
  assert.match(css.headers.get("content-type") ?? "", /text\/css/);
  await css.body?.cancel();

  const wrong = await fetch(
    `${s.base}/auth/signin`,
    form({ code: "nope", next: "/" }, s.base),
  );
  assert.equal(wrong.status, 401);
  assert.match(await wrong.text(), /not right/);
  assert.equal(wrong.headers.get("set-cookie"), null);

  const right = await fetch(
    `${s.base}/auth/signin`,
    form({ code: "open-sesame-please", next: "/api/config" }, s.base),
  );
  await right.body?.cancel();
  assert.equal(right.status, 302);
  assert.equal(right.headers.get("location"), "/api/config");
  const cookie = right.headers.get("set-cookie") ?? "";
  assert.match(cookie, new RegExp(`^${ACCESS_COOKIE}=v1\\.`));
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  assert.match(cookie, /Path=\//);
  assert.doesNotMatch(cookie, /Secure/, "plain http on loopback");
  assert.ok(!cookie.includes("open-sesame-please"));

  const api = await fetch(`${s.base}/api/config`, {
    headers: { Cookie: cookie.split(";")[0] },
  });
  assert.equal(api.status, 200);
  assert.deepEqual(await api.json(), { ok: true });
  const noCookie = await fetch(`${s.base}/api/config`);
  assert.equal(noCookie.status, 401);
  await noCookie.body?.cancel();
});

Deno.test("sign-in: JSON clients, cross-site posts and guessing are refused", async () => {
  await using s = await serve({ ACCESS_CODE: "open-sesame-please" });
  const evil = await fetch(
    `${s.base}/auth/signin`,
    form({ code: "open-sesame-please" }, "https://evil.example"),
  );
  assert.equal(evil.status, 403);
  assert.equal(evil.headers.get("set-cookie"), null);
  await evil.body?.cancel();

  const bad = await fetch(`${s.base}/auth/signin`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ code: 42 }),
  });
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.code, "invalid_request");

  await insideOneWindow(15 * 60_000); // the attempt counters' window
  for (let i = 0; i < 10; i++) {
    const r = await fetch(`${s.base}/auth/signin`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code: `guess-${i}` }),
    });
    assert.equal(r.status, 401);
    assert.equal((await r.json()).error.code, "invalid_access_code");
  }
  const locked = await fetch(`${s.base}/auth/signin`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ code: "open-sesame-please" }),
  });
  assert.equal(locked.status, 429, "even the right code waits once locked out");
  assert.ok(Number(locked.headers.get("retry-after")) > 0);
  assert.equal((await locked.json()).error.code, "signin_throttled");
  assert.equal(locked.headers.get("set-cookie"), null);
});

Deno.test("sign-in: with no access code the app is open and sign-in is a no-op", async () => {
  await using s = await serve({});
  const page = await fetch(`${s.base}/auth/signin`, { redirect: "manual" });
  await page.body?.cancel();
  assert.equal(page.status, 302);
  assert.equal(page.headers.get("location"), "/");
  const post = await fetch(`${s.base}/auth/signin`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ code: "anything" }),
  });
  assert.equal(post.status, 404);
  await post.body?.cancel();
  const api = await fetch(`${s.base}/api/config`);
  assert.equal(api.status, 200);
  await api.body?.cancel();
});

Deno.test("safeNext keeps only same-site paths", () => {
  assert.equal(safeNext("/s/abc?x=1"), "/s/abc?x=1");
  for (
    const bad of [
      "//evil.example",
      "/\\evil.example",
      "https://evil.example",
      "javascript:x",
      "/a b",
      "",
      null,
      5,
    ]
  ) {
    assert.equal(safeNext(bad), "/", String(bad));
  }
});
