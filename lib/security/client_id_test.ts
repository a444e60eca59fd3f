import assert from "node:assert/strict";
import { Hono } from "npm:hono@4.13.19";
import { loadConfig } from "../config.ts";
import { openStore } from "../store/mod.ts";
import { CLIENT_COOKIE, clientIdentity, ownerKeyOf, requesterOwnerKey } from "./client_id.ts";

const SECRET = "client-id-test-secret-0123";

Deno.test("clientIdentity(): a cookie on page loads and mints only, the mint bound to it, junk ignored", async () => {
  const store = await openStore(await loadConfig({}), { url: ":memory:" });
  try {
    const app = new Hono();
    app.use(clientIdentity({
      signingSecret: SECRET,
      store,
      secure: () => false,
      mintPaths: ["/api/session"],
      pagePaths: ["/", "/s/*"],
    }));
    app.get("/", (c) => c.text("page"));
    app.get("/s/:id", (c) => c.text("share"));
    app.get("/api/whoami", (c) => c.json({ owner: requesterOwnerKey(c) }));
    app.post("/api/session", async (c) => {
      const row = await store.createSession({ source: "webrtc", model: "m", settings: {} });
      return c.json({ sessionId: row.id });
    });

    const page = await app.request("/");
    const set = page.headers.get("set-cookie") ?? "";
    assert.match(set, new RegExp(`^${CLIENT_COOKIE}=[A-Za-z0-9_-]{22};`));
    assert.match(set, /HttpOnly/);
    assert.match(set, /SameSite=Lax/);
    assert.doesNotMatch(set, /Secure/);
    assert.match((await app.request("/s/x")).headers.get("set-cookie") ?? "", /ht_client=/);
    // No cookie handed out on other reads, and a new visitor owns nothing.
    const anon = await app.request("/api/whoami");
    assert.equal(anon.headers.get("set-cookie"), null);
    assert.deepEqual(await anon.json(), { owner: null });

    const cookie = set.split(";")[0];
    const id = cookie.split("=")[1];
    const me = await (await app.request("/api/whoami", { headers: { Cookie: cookie } })).json();
    assert.equal(me.owner, await ownerKeyOf(SECRET, id));
    // A cookie that is not one of ours is no identity.
    const junk = await app.request("/api/whoami", { headers: { Cookie: `${CLIENT_COOKIE}=x` } });
    assert.deepEqual(await junk.json(), { owner: null });

    // A mint binds the new session to the caller's cookie, once.
    const minted = await (await app.request("/api/session", {
      method: "POST",
      headers: { Cookie: cookie },
    })).json();
    assert.equal(await store.sessionOwnerKey(minted.sessionId), me.owner);
    await store.setSessionOwner(minted.sessionId, "someone-else");
    assert.equal(await store.sessionOwnerKey(minted.sessionId), me.owner, "never rebound");
    // A first-time minter gets a cookie and owns what it minted.
    const fresh = await app.request("/api/session", { method: "POST" });
    const freshId = (fresh.headers.get("set-cookie") ?? "").split(";")[0].split("=")[1];
    const { sessionId } = await fresh.json();
    assert.equal(await store.sessionOwnerKey(sessionId), await ownerKeyOf(SECRET, freshId));
  } finally {
    await store.close();
  }
});
