import assert from "node:assert/strict";
import { ApiError, describeEndReason, describeError, fetchJson } from "./api.js";

Deno.test("describeError says what happened and what to do next", () => {
  const cases: Array<[unknown, RegExp]> = [
    [new DOMException("x", "NotAllowedError"), /^Microphone access was denied\. Allow/],
    [new DOMException("x", "NotFoundError"), /^No microphone was found\./],
    [new DOMException("x", "OverconstrainedError"), /^No microphone was found\./],
    [new DOMException("x", "NotReadableError"), /another app may be using it/],
    [new ApiError("Network request failed", { code: "network" }), /^Cannot reach the server/],
    [new TypeError("Failed to fetch"), /^Cannot reach the server/],
    [
      new ApiError("Slow down", { status: 429, retryAfter: 7 }),
      /^Too many requests right now: Slow down\. Try again in 7 s\.$/,
    ],
    [
      new ApiError('Invalid value for "language"', { status: 400 }),
      /^The server did not accept these settings: Invalid value/,
    ],
    [
      new ApiError("Access code required", { status: 401, code: "access_required" }),
      /^Not signed in/,
    ],
    [
      new ApiError("Server key rejected", { status: 502 }),
      /^OpenAI or the server reported a problem: Server key rejected\./,
    ],
    [
      Object.assign(new Error("The audio connection did not open (WebRTC/ICE failed)"), {
        status: 0,
        code: "webrtc_timeout",
      }),
      /^The audio connection failed .+ WebRTC \(UDP\)/,
    ],
  ];
  for (const [err, re] of cases) assert.match(describeError(err).text, re);
  assert.equal(describeError(new ApiError("x", { status: 429, retryAfter: 7 })).retryAfter, 7);
  assert.equal(describeError(new DOMException("x", "NotAllowedError")).retryAfter, null);
});

Deno.test("describeEndReason explains server-side endings", () => {
  assert.match(
    describeEndReason("max_duration", { maxSessionSeconds: 900 }),
    /maximum length \(15 min\).+MAX_SESSION_SECONDS/,
  );
  assert.match(describeEndReason("max_duration", { maxSessionSeconds: 30 }), /\(30 s\)/);
  assert.match(describeEndReason("session_expired"), /60-minute limit/);
  assert.match(
    describeEndReason("error: upstream closed"),
    /because of an error \(upstream closed\)/,
  );
  assert.match(describeEndReason(null), /^The connection ended/);
});

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
    await assert.rejects(fetchJson(`${base}/limited`, { body: {} }), (err: ApiError) => {
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
  await assert.rejects(fetchJson(`${base}/ok`), (err: ApiError) => err.code === "network");
});
