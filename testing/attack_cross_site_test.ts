/**
 * Attack: another web site reads a visitor's session list. The app runs behind the Val Town proxy
 * stand-in (`testing/valtown_proxy.ts`, which adds `Access-Control-Allow-Origin: *` to answers
 * without CORS headers, as the platform does). The victim opens the app at `http://localhost:<proxy>`
 * in Chromium and starts a session; then, in the same browser, a page on another origin
 * (`http://127.0.0.1:<other port>`) runs `fetch()` against the app's `/api/sessions` — with the
 * visitor's cookies and without — and must read nothing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startTestApp } from "./server.ts";
import { startValTownProxy } from "./valtown_proxy.ts";
import { launchBrowser } from "./browser.ts";

const ATTACKER_PAGE = `<!doctype html><meta charset="utf-8"><title>cute cats</title><p>cats</p>`;

Deno.test({
  name: "a cross-site page cannot read the visitor's session list (Val Town CORS default)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const app = await startTestApp({ platform: "valtown" });
    const proxy = await startValTownProxy({ target: app.baseUrl });
    const attacker = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response(ATTACKER_PAGE, { headers: { "Content-Type": "text/html" } }),
    );
    const browser = await launchBrowser();
    try {
      const appOrigin = `http://localhost:${proxy.port}`;
      // The victim: loads the page (gets its client-id cookie) and starts a session from it.
      await browser.page.goto(`${appOrigin}/`);
      const mine = await browser.page.evaluate(async () => {
        const res = await fetch("/api/session", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: "{}",
        });
        const { sessionId } = await res.json();
        const list = await (await fetch("/api/sessions")).json();
        return { sessionId, listed: list.sessions.map((s: { id: string }) => s.id) };
      });
      assert.equal(typeof mine.sessionId, "string");
      // The control: the app's own page sees its own session.
      assert.ok(mine.listed.includes(mine.sessionId), "the victim's own page lists its session");

      // The attacker: another origin, same browser.
      const evil = await browser.context.newPage();
      await evil.goto(`http://127.0.0.1:${(attacker.addr as Deno.NetAddr).port}/`);
      const stolen = await evil.evaluate(async (target: string) => {
        const tries: { mode: string; read: string | null; error: string | null }[] = [];
        for (const credentials of ["include", "omit", "same-origin"] as const) {
          try {
            const res = await fetch(`${target}/api/sessions?limit=100`, { credentials });
            tries.push({ mode: credentials, read: await res.text(), error: null });
          } catch (err) {
            tries.push({ mode: credentials, read: null, error: String(err) });
          }
        }
        return tries;
      }, appOrigin);
      for (const t of stolen) {
        assert.equal(t.read, null, `fetch with credentials: ${t.mode} read ${t.read}`);
        assert.doesNotMatch(JSON.stringify(t), new RegExp(mine.sessionId));
      }
      // The app itself refused the cross-site reads (not only the browser's CORS check).
      const crossSite = proxy.requests.filter((r) => r.path === "/api/sessions" && r.origin);
      assert.ok(crossSite.length >= 3, "the attacker's requests reached the app");
      for (const r of crossSite) assert.equal(r.status, 403, JSON.stringify(r));
      // A non-simple request (DELETE) needs a preflight, which grants nothing: the victim's
      // session survives and the DELETE never reaches the app.
      const deleted = await evil.evaluate(async ({ target, id }) => {
        try {
          const res = await fetch(`${target}/api/sessions/${id}`, {
            method: "DELETE",
            credentials: "include",
          });
          return `read ${res.status}`;
        } catch (err) {
          return String(err);
        }
      }, { target: appOrigin, id: mine.sessionId });
      assert.match(deleted, /TypeError/);
      assert.ok(await app.store.getSession(mine.sessionId), "the session survived");
      const preflight = proxy.requests.find((r) => r.method === "OPTIONS");
      assert.equal(preflight?.status, 204);
      assert.ok(!proxy.requests.some((r) => r.method === "DELETE"), "no DELETE got through");
      await evil.close();
    } finally {
      await browser.close();
      await attacker.shutdown();
      await proxy.close();
      await app.close();
    }
  },
});
