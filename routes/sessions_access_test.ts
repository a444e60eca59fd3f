/**
 * Who may list and delete sessions, over real HTTP on a real SQLite file: on a public val (no
 * `ACCESS_CODE`) the session's ticket or the client that minted it; with an access code, only
 * signed-in callers, who then see and may delete every session (phone calls included, numbers
 * masked). Every refusal changes nothing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createTicket } from "../lib/ticket.ts";
import type { Store } from "../lib/store/types.ts";
import {
  assertError,
  getJson,
  LOCAL_CLIENT_KEY,
  LOCAL_OWNER_KEY,
  SECRET,
  withApp,
} from "../testing/sessions_kit.ts";

const CODE = "let-me-in-please";
const OTHER_CLIENT = "someone-else-0000000000";

/** A webrtc session minted by `client`, or a phone call (no client, masked caller). */
async function make(writer: Store, client: string | null) {
  return (await writer.createSession({
    source: client === null ? "sip" : "webrtc",
    model: "gpt-transcribe",
    settings: {},
    clientKey: client,
    caller: client === null ? "+1******0100" : null,
  })).id;
}

const del = (base: string, id: string, headers: Record<string, string> = {}) =>
  getJson(base, `/api/sessions/${id}`, { method: "DELETE", headers });

const ids = (r: { json: { sessions: { id: string }[] } }) =>
  r.json.sessions.map((s) => s.id).sort();

Deno.test("public val: the session's ticket deletes it from any client; another ticket does not", async () => {
  await withApp(async (t, writer) => {
    const theirs = await make(writer, OTHER_CLIENT);
    const other = await make(writer, OTHER_CLIENT);
    const refused: [string, Record<string, string>][] = [
      ["no credentials", {}],
      ["another session's ticket", {
        Authorization: `Bearer ${await createTicket(other, { secret: SECRET, ttlSeconds: 60 })}`,
      }],
      ["a ticket signed with another secret", {
        Authorization: `Bearer ${await createTicket(theirs, {
          secret: "another-secret-0123456789",
          ttlSeconds: 60,
        })}`,
      }],
      ["an expired ticket", {
        Authorization: `Bearer ${await createTicket(theirs, {
          secret: SECRET,
          ttlSeconds: 10,
          now: Date.now() - 60_000,
        })}`,
      }],
      ["junk", { Authorization: "Bearer x.y" }],
    ];
    for (const [name, headers] of refused) {
      const r = await del(t.baseUrl, theirs, headers);
      assert.equal(r.status, 403, `${name}: ${r.text}`);
      assertError(r, 403, "not_owner");
    }
    assert.ok(await writer.getSession(theirs), "a refused delete changes nothing");

    const ticket = await createTicket(theirs, { secret: SECRET, ttlSeconds: 60 });
    const ok = await del(t.baseUrl, theirs, { Authorization: `Bearer ${ticket}` });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.json, { id: theirs, deleted: true, hungUp: false });
    assert.equal(await writer.getSession(theirs), null);
    assert.ok(await writer.getSession(other), "only that session went");
  });
});

Deno.test("with ACCESS_CODE: no cookie, no list or delete; signed in, every session is listed and deletable", async () => {
  await withApp(async (t, writer) => {
    const mine = await make(writer, LOCAL_CLIENT_KEY);
    await writer.setSessionOwner(mine, LOCAL_OWNER_KEY);
    const theirs = await make(writer, OTHER_CLIENT);
    const phone = await make(writer, null);
    const all = [mine, theirs, phone].sort();

    // Without the cookie the gate answers first: even the session's own ticket is not enough.
    // (`getJson` sends the client-id cookie: it owns `mine`, yet opens nothing without sign-in.)
    assertError(await getJson(t.baseUrl, "/api/sessions"), 401, "access_code_required");
    assertError(await getJson(t.baseUrl, `/api/sessions/${mine}`), 401, "access_code_required");
    const ticket = await createTicket(mine, { secret: SECRET, ttlSeconds: 60 });
    const bearer: Record<string, string>[] = [{}, { Authorization: `Bearer ${ticket}` }];
    for (const headers of bearer) {
      for (const id of [mine, theirs]) {
        assertError(await del(t.baseUrl, id, headers), 401, "access_code_required");
      }
    }
    const forged = "ht_access=v1.9999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assertError(await getJson(t.baseUrl, "/api/sessions", { headers: { Cookie: forged } }), 401);
    assertError(await del(t.baseUrl, theirs, { Cookie: forged }), 401);
    for (const id of all) assert.ok(await writer.getSession(id), "nothing was deleted");

    const signin = await fetch(`${t.baseUrl}/auth/signin`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code: CODE }),
    });
    await signin.body?.cancel();
    assert.equal(signin.status, 200);
    const cookie = { Cookie: (signin.headers.get("set-cookie") ?? "").split(";")[0] };
    assert.match(cookie.Cookie, /^ht_access=v1\./);

    // Signed in: every client's sessions and phone calls are listed, the number masked.
    const list = await getJson(t.baseUrl, "/api/sessions", { headers: cookie });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(ids(list), all);
    const call = list.json.sessions.find((s: { id: string }) => s.id === phone);
    assert.equal(call.caller, "+1******0100");
    assert.ok(!list.text.includes("clientKey") && !list.text.includes(LOCAL_CLIENT_KEY));
    const paged = await getJson(t.baseUrl, "/api/sessions?limit=2", { headers: cookie });
    assert.equal(paged.json.sessions.length, 2);
    assert.equal(typeof paged.json.nextCursor, "string");

    // A cross-site page cannot ride the cookie to delete.
    assertError(
      await del(t.baseUrl, theirs, { ...cookie, Origin: "https://evil.example" }),
      403,
      "cross_origin_request",
    );
    assert.ok(await writer.getSession(theirs));

    // Another client's session and a phone call are deletable by a signed-in caller.
    for (const id of [theirs, phone]) {
      const r = await del(t.baseUrl, id, cookie);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { id, deleted: true, hungUp: false });
      assert.equal(await writer.getSession(id), null);
    }
    const after = await getJson(t.baseUrl, "/api/sessions", { headers: cookie });
    assert.deepEqual(ids(after), [mine]);
  }, { ACCESS_CODE: CODE });
});
