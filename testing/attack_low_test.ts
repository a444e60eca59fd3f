/**
 * Attacks on the smaller holes, each against the real app on loopback (emulator, SQLite): weak
 * access codes, the sign-in template, 5xx answers to bad input, the OpenAPI document, a flood of
 * live event streams, session ids in logs, an access cookie that outlives sign-out, and
 * credentials in `OPENAI_BASE_URL` reaching the page.
 *
 * @module
 */
import assert from "node:assert/strict";
import { postJson, startTestApp } from "./server.ts";
import { loadConfig } from "../lib/config.ts";
import { consoleLogger } from "../lib/setup.ts";

const CODE = "correct horse battery";

Deno.test("a guessable ACCESS_CODE stops the server with a clear config error", async () => {
  for (const code of ["1234", "letmein", "open-sesame", "zzzzzzzzzzzzzzzz"]) {
    await assert.rejects(
      () => loadConfig({ ACCESS_CODE: code }),
      /Cannot read environment variable "ACCESS_CODE"/,
      code,
    );
  }
});

Deno.test("credentials in OPENAI_BASE_URL are refused before /api/config could echo them", async () => {
  await assert.rejects(
    () => loadConfig({ OPENAI_BASE_URL: "https://user:hunter2@proxy.example" }),
    /OPENAI_BASE_URL/,
  );
  const app = await startTestApp();
  try {
    const config = await (await fetch(`${app.baseUrl}/api/config`)).json();
    assert.equal(config.realtimeBaseUrl, app.emulator.baseUrl);
  } finally {
    await app.close();
  }
});

Deno.test("the sign-in page survives `$` patterns in next", async () => {
  const app = await startTestApp({ env: { ACCESS_CODE: CODE } });
  try {
    for (const next of ["/$`", "/$'", "/$&", "/$$"]) {
      const res = await fetch(`${app.baseUrl}/auth/signin?next=${encodeURIComponent(next)}`);
      const html = await res.text();
      assert.equal(res.status, 200);
      assert.equal(html.match(/<form/g)?.length, 1, `one form for next=${next}`);
      assert.equal(html.match(/<html/g)?.length, 1, `one page for next=${next}`);
      const escaped = next.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
      assert.ok(html.includes(`value="${escaped}"`), `next=${next} kept as typed`);
    }
  } finally {
    await app.close();
  }
});

Deno.test("a 5000-character asset name is a 404, not a 503", async () => {
  const app = await startTestApp();
  try {
    const longName = await fetch(`${app.baseUrl}/frontend/${"a".repeat(5000)}.js`);
    assert.equal(longName.status, 404, await longName.text());
  } finally {
    await app.close();
  }
});

Deno.test("junk SDP is a 400 that never reaches OpenAI", async () => {
  const app = await startTestApp();
  try {
    const mint = await postJson(app.baseUrl, "/api/session", {});
    const calls = app.emulator.control.calls().length;
    for (const sdp of ["v=0 this is no offer at all", "v=0\r\nnothing else here\r\n"]) {
      const junk = await postJson(app.baseUrl, "/api/calls", { ticket: mint.json.ticket, sdp });
      assert.equal(junk.status, 400, JSON.stringify(junk.json));
      assert.equal(junk.json.error.code, "invalid_request");
    }
    assert.equal(app.emulator.control.calls().length, calls, "no call was attempted");
  } finally {
    await app.close();
  }
});

Deno.test("an overloaded upstream (503) is a 503 with Retry-After, not a 502", async () => {
  const app = await startTestApp();
  try {
    app.emulator.control.failRest({
      endpoint: "client_secrets",
      count: 20,
      status: 503,
      body: { error: { message: "Overloaded" } },
    });
    const busy = await postJson(app.baseUrl, "/api/session", {});
    assert.equal(busy.status, 503, JSON.stringify(busy.json));
    assert.equal(busy.json.error.upstreamStatus, 503);
    assert.ok(Number(busy.headers.get("retry-after")) > 0);
  } finally {
    await app.close();
  }
});

Deno.test("the OpenAPI document names every operation and covers /auth and /webhooks", async () => {
  const app = await startTestApp();
  try {
    const doc = await (await fetch(`${app.baseUrl}/api/openapi.json`)).json();
    const ids: string[] = [];
    for (const ops of Object.values(doc.paths) as Record<string, { operationId: string }>[]) {
      for (const op of Object.values(ops)) ids.push(op.operationId);
    }
    assert.ok(ids.every((id) => !id.includes("undefined")), ids.join());
    assert.equal(new Set(ids).size, ids.length);
    for (const path of ["/webhooks/openai", "/auth/signin", "/auth/signout"]) {
      assert.ok(doc.paths[path], path);
    }
  } finally {
    await app.close();
  }
});

Deno.test("the console log never carries a whole session id", () => {
  const id = "Abc123SessionIdThatOpensIt";
  const lines: string[] = [];
  const original = console.log;
  console.log = (line: string) => void lines.push(line);
  try {
    consoleLogger("info", "Sideband connected", { sessionId: id, callId: "rtc_1" });
  } finally {
    console.log = original;
  }
  assert.equal(lines.length, 1);
  assert.ok(!lines[0].includes(id), lines[0]);
  assert.match(lines[0], /"sessionId":"Abc123…"/);
});

Deno.test("signing out revokes the access cookie, a copied one included", async () => {
  const app = await startTestApp({ env: { ACCESS_CODE: CODE } });
  try {
    const signin = await postJson(app.baseUrl, "/auth/signin", { code: CODE });
    assert.equal(signin.status, 200);
    const cookie = (signin.headers.get("set-cookie") ?? "").split(";")[0];
    const get = async () => {
      const res = await fetch(`${app.baseUrl}/api/config`, { headers: { Cookie: cookie } });
      await res.body?.cancel();
      return res.status;
    };
    assert.equal(await get(), 200);
    // A stranger's sign-out (no cookie) revokes nothing.
    const stranger = await fetch(`${app.baseUrl}/auth/signout`, {
      method: "POST",
      redirect: "manual",
    });
    await stranger.body?.cancel();
    assert.equal(await get(), 200);
    const out = await fetch(`${app.baseUrl}/auth/signout`, {
      method: "POST",
      headers: { Cookie: cookie },
      redirect: "manual",
    });
    await out.body?.cancel();
    assert.equal(out.status, 302);
    // The copy (someone who had lifted it) no longer opens anything.
    assert.equal(await get(), 401);
    // Signing in again works.
    const again = await postJson(app.baseUrl, "/auth/signin", { code: CODE });
    const fresh = (again.headers.get("set-cookie") ?? "").split(";")[0];
    const ok = await fetch(`${app.baseUrl}/api/config`, { headers: { Cookie: fresh } });
    await ok.body?.cancel();
    assert.equal(ok.status, 200);
  } finally {
    await app.close();
  }
});

// Last in the file: its aborted streams' poll timers finish after it, which would trip the timer
// sanitizer of whichever test ran next.
Deno.test({
  name: "one client cannot hold an unbounded number of live event streams",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const app = await startTestApp();
    const open: AbortController[] = [];
    try {
      const s = await app.store.createSession({ source: "webrtc", model: "m", settings: {} });
      await app.store.updateSession(s.id, { status: "live", startedAt: Date.now() });
      let refused: Response | null = null;
      for (let i = 0; i < 50 && !refused; i++) {
        const ctl = new AbortController();
        const res = await fetch(`${app.baseUrl}/api/sessions/${s.id}/events`, {
          signal: ctl.signal,
        });
        if (res.status === 200) open.push(ctl);
        else refused = res;
      }
      assert.ok(refused, `${open.length} streams open and none refused`);
      assert.equal(refused.status, 429);
      assert.equal((await refused.json()).error.code, "too_many_streams");
      assert.ok(Number(refused.headers.get("retry-after")) > 0);
      assert.equal(open.length, 10, "ten views per client, as docs/security.md says");
      // Closing one makes room again.
      open.pop()!.abort();
      let again: Response | null = null;
      for (let i = 0; i < 100; i++) {
        const ctl = new AbortController();
        again = await fetch(`${app.baseUrl}/api/sessions/${s.id}/events`, { signal: ctl.signal });
        if (again.status === 200) {
          open.push(ctl);
          break;
        }
        await again.body?.cancel();
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(again?.status, 200);
    } finally {
      for (const ctl of open) ctl.abort();
      await app.close();
    }
  },
});
