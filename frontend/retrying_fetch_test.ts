/**
 * retryingFetch() over real HTTP on loopback. ICE loss and rotation (`call_keeper.js`) run in
 * Chromium (`testing/browser_resilience_test.ts`).
 */
import assert from "node:assert/strict";
import { retryingFetch } from "./retrying_fetch.js";

/** A server that answers the scripted statuses in turn (then 201) and counts requests. */
function scriptedServer(statuses: Array<[number, Record<string, string>?]>) {
  const seen: { path: string; body: string }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    seen.push({ path: new URL(req.url).pathname, body: await req.text() });
    const [status, headers] = statuses.shift() ?? [201, { location: "/v1/realtime/calls/rtc_x" }];
    return new Response(status === 201 ? "v=0 answer" : "{}", { status, headers });
  });
  return { seen, base: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

const sdpPost = (body = "v=0 offer") => ({
  method: "POST",
  headers: { "Content-Type": "application/sdp" },
  body,
});

Deno.test("retryingFetch() repeats a call creation answered 429 or 503, with the same offer", async () => {
  const s = scriptedServer([[429, { "retry-after": "0" }], [503]]);
  try {
    const retries: number[] = [];
    const f = retryingFetch(fetch, {
      attempts: 3,
      baseMs: 10,
      onRetry: ({ status }) => retries.push(status),
    });
    const res = await f(`${s.base}/v1/realtime/calls`, sdpPost("v=0 my offer"));
    assert.equal(res.status, 201);
    assert.equal(await res.text(), "v=0 answer");
    assert.deepEqual(retries, [429, 503]);
    assert.deepEqual(s.seen.map((r) => r.body), Array(3).fill("v=0 my offer"));
  } finally {
    await s.close();
  }
});

Deno.test("retryingFetch() gives up at the limit and never repeats what may have worked", async () => {
  const s = scriptedServer([[503], [503], [503], [500], [429, { "retry-after": "120" }], [503]]);
  try {
    const f = retryingFetch(fetch, { attempts: 3, baseMs: 5 });
    // Three 503s: the last one is returned as is.
    const r503 = await f(`${s.base}/v1/realtime/calls`, sdpPost());
    assert.equal(r503.status, 503);
    await r503.body?.cancel();
    assert.equal(s.seen.length, 3);
    // A 500 may have created the call: returned at once.
    const r500 = await f(`${s.base}/v1/realtime/calls`, sdpPost());
    assert.equal(r500.status, 500);
    await r500.body?.cancel();
    assert.equal(s.seen.length, 4);
    // Retry-After beyond the cap goes back to the page.
    const r429 = await f(`${s.base}/v1/realtime/calls`, sdpPost());
    assert.equal(r429.status, 429);
    await r429.body?.cancel();
    assert.equal(s.seen.length, 5);
    // Anything but an SDP post to /v1/realtime/calls passes through untouched.
    const other = await f(`${s.base}/api/session`, { method: "POST", body: "{}" });
    assert.equal(other.status, 503);
    await other.body?.cancel();
    assert.equal(s.seen.length, 6);
  } finally {
    await s.close();
  }
});
