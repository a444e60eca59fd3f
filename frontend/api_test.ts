import assert from "node:assert/strict";
import { ConnectionError, continueSession, fetchJson, postJson } from "./api.js";

Deno.test("fetchJson throws the server's error with status, code and Retry-After", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) =>
      new URL(req.url).pathname === "/ok"
        ? Response.json({ fine: true })
        : Response.json({ error: { code: "rate_limited", message: "Too many sessions" } }, {
          status: 429,
          headers: { "retry-after": "12" },
        }),
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    assert.deepEqual(await fetchJson(`${base}/ok`), { fine: true });
    await assert.rejects(fetchJson(`${base}/limited`, { body: {} }), (err: ConnectionError) => {
      assert.equal(err.status, 429);
      assert.equal(err.code, "rate_limited");
      assert.equal(err.retryAfter, 12);
      assert.equal(err.message, "Too many sessions");
      return true;
    });
  } finally {
    await server.shutdown();
  }
  // Nothing listens there any more: a network failure.
  await assert.rejects(fetchJson(`${base}/ok`), (err: ConnectionError) => err.code === "network");
});

Deno.test("postJson and continueSession name the failed step; one ConnectionError for every request", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/json") {
      return Response.json({ error: { code: "bad_thing", message: "Nope" } }, { status: 400 });
    }
    if (path === "/text") return new Response("  upstream exploded  ", { status: 502 });
    if (path === "/empty") return new Response("", { status: 400 });
    if (path === "/api/session/s_1/continue") {
      return Response.json({ error: { code: "session_ended", message: "Ended" } }, {
        status: 409,
        headers: { "retry-after": "Wed, 01 Jan 2020 00:00:00 GMT" },
      });
    }
    return Response.json({ ok: true });
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  const local: typeof fetch = (input, init) => fetch(new URL(String(input), base), init);
  const failure = async (p: Promise<unknown>) => {
    const err = await p.then(() => null, (e) => e);
    assert.ok(err instanceof ConnectionError, String(err));
    return err;
  };
  try {
    assert.deepEqual(await postJson("/ok", {}, { fetch: local }), { ok: true });
    const json = await failure(postJson("/json", {}, { fetch: local }));
    assert.equal(json.message, "POST /json failed (400): Nope");
    assert.equal(json.code, "bad_thing");
    assert.equal(json.retryAfter, null);
    const text = await failure(postJson("/text", {}, { fetch: local }));
    assert.equal(text.message, "POST /text failed (502): upstream exploded");
    assert.equal(text.code, "");
    const empty = await failure(postJson("/empty", {}, { fetch: local }));
    assert.equal(empty.message, "POST /empty failed (400): no reason given");
    const ended = await failure(
      continueSession({ sessionId: "s_1", ticket: "t" }, { fetch: local }),
    );
    assert.equal(ended.message, "Reconnecting failed (409): Ended");
    assert.equal(ended.status, 409);
    assert.equal(ended.retryAfter, null, "a Retry-After date in the past asks for no wait");
  } finally {
    await server.shutdown();
  }
  const gone = await failure(postJson("/ok", {}, { fetch: local }));
  assert.equal(gone.message, "Cannot reach the server (/ok)");
  assert.equal(gone.code, "network");
  const lost = await failure(continueSession({ sessionId: "s_1", ticket: "t" }, { fetch: local }));
  assert.equal(lost.message, "Cannot reach the server to reconnect");
});
