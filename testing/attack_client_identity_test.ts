/**
 * Attack: a stranger who presents the victim's address — an `X-Forwarded-For` value that the Val
 * Town proxy stand-in (`testing/valtown_proxy.ts`) appends to, as docs/security.md allows — lists
 * the victim's sessions and deletes one it learnt from a share link. Ownership now rests on the
 * client-id cookie only, so the address buys nothing; the victim, with its cookie, still can.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startTestApp } from "./server.ts";
import { startValTownProxy } from "./valtown_proxy.ts";

/** The `name=value` pairs of a response's `Set-Cookie` headers, as a `Cookie` header. */
function cookiesOf(res: Response): string {
  return res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
}

Deno.test("the victim's address without its cookie neither lists nor deletes its sessions", async () => {
  const app = await startTestApp({ platform: "valtown" });
  const proxy = await startValTownProxy({ target: app.baseUrl });
  try {
    // The victim loads the page (its client-id cookie) and starts a session.
    const page = await fetch(`${proxy.baseUrl}/`);
    await page.body?.cancel();
    const cookie = cookiesOf(page);
    const minted = await fetch(`${proxy.baseUrl}/api/session`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Cookie: cookie },
      body: "{}",
    });
    assert.equal(minted.status, 200);
    const { sessionId } = await minted.json();

    // The stranger claims the victim's address (the proxy saw the victim at 127.0.0.1).
    const spoof = { "X-Forwarded-For": "127.0.0.1" };
    const listed = await (await fetch(`${proxy.baseUrl}/api/sessions`, { headers: spoof })).json();
    assert.deepEqual(listed.sessions.map((s: { id: string }) => s.id), []);
    const deleted = await fetch(`${proxy.baseUrl}/api/sessions/${sessionId}`, {
      method: "DELETE",
      headers: spoof,
    });
    assert.equal(deleted.status, 403);
    await deleted.body?.cancel();
    assert.ok(await app.store.getSession(sessionId), "the session is still there");

    // A cookie of its own (a fresh visitor) does not help either.
    const fresh = await fetch(`${proxy.baseUrl}/`);
    await fresh.body?.cancel();
    const other = cookiesOf(fresh);
    const theirs = await (await fetch(`${proxy.baseUrl}/api/sessions`, {
      headers: { ...spoof, Cookie: other },
    })).json();
    assert.deepEqual(theirs.sessions, []);

    // The victim, with its cookie, from any address.
    assert.match(cookie, /ht_client=/);
    const attributes = page.headers.getSetCookie().find((c) => c.startsWith("ht_client=")) ?? "";
    for (const flag of [/HttpOnly/i, /SameSite=Lax/i, /Secure/i, /Path=\//]) {
      assert.match(attributes, flag);
    }
    const own = await (await fetch(`${proxy.baseUrl}/api/sessions`, {
      headers: { Cookie: cookie, "X-Forwarded-For": "203.0.113.9" },
    })).json();
    assert.deepEqual(own.sessions.map((s: { id: string }) => s.id), [sessionId]);
    const gone = await fetch(`${proxy.baseUrl}/api/sessions/${sessionId}`, {
      method: "DELETE",
      headers: { Cookie: cookie },
    });
    assert.equal(gone.status, 200);
    await gone.body?.cancel();
  } finally {
    await proxy.close();
    await app.close();
  }
});
