import assert from "node:assert/strict";
import { ConnectionError } from "./api.js";
import {
  describeAdjustments,
  describeEndReason,
  describeError,
  describeHandover,
} from "./messages.js";

Deno.test("describeError says what happened and what to do next", () => {
  const cases: Array<[unknown, RegExp]> = [
    [new DOMException("x", "NotAllowedError"), /^Microphone access was denied\. Allow/],
    [new DOMException("x", "NotFoundError"), /^No microphone was found\./],
    [new DOMException("x", "OverconstrainedError"), /^No microphone was found\./],
    [new DOMException("x", "NotReadableError"), /another app may be using it/],
    [
      new ConnectionError("Network request failed", { code: "network" }),
      /^Cannot reach the server/,
    ],
    [new TypeError("Failed to fetch"), /^Cannot reach the server/],
    [
      new ConnectionError("Slow down", { status: 429, retryAfter: 7 }),
      /^Too many requests right now\. Try again in 7 s\.$/,
    ],
    [
      new ConnectionError('Invalid value for "language"', { status: 400 }),
      /^One of the settings was not accepted\. Correct the marked field in Settings/,
    ],
    [
      new ConnectionError("Access code required", { status: 401, code: "access_required" }),
      /^Not signed in/,
    ],
    [
      new ConnectionError("Server key rejected", { status: 502 }),
      /^The transcription service is not answering right now\. Wait a moment/,
    ],
    [
      Object.assign(new Error("The audio connection did not open (WebRTC/ICE failed)"), {
        status: 0,
        code: "webrtc_timeout",
      }),
      /^The audio connection failed; your network may block WebRTC \(UDP\)\./,
    ],
  ];
  for (const [err, re] of cases) {
    const { text, detail } = describeError(err);
    assert.match(text, re);
    // One sentence of what happened, one of what to do: never the server's words twice.
    assert.ok(text.split(/(?<=\.) /).length <= 2, text);
    assert.ok(!/Try again.*Try again/i.test(text), text);
    assert.ok(detail && detail.includes((err as Error).message), "the technical words are kept");
  }
  assert.equal(
    describeError(new ConnectionError("Invalid", { status: 400, field: "languages.0" })).field,
    "languages.0",
  );
  assert.match(
    describeError(new ConnectionError("Key rejected", { status: 502, code: "server_key_rejected" }))
      .text,
    /^OpenAI refused this site's key\. Ask the site's owner/,
  );
  assert.equal(
    describeError(new ConnectionError("x", { status: 429, retryAfter: 7 })).retryAfter,
    7,
  );
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

Deno.test("describeHandover says what the new call cost", () => {
  assert.match(
    describeHandover({ reason: "rotate", gapMs: 0 }),
    /^Switched to a new call .* \(gap 0\.0 s\)\.$/,
  );
  assert.match(
    describeHandover({ reason: "ice_failed", gapMs: 1234 }),
    /dropped and was restored; speech in the last 1\.2 s may be missing/,
  );
});

Deno.test("describeAdjustments says what the server left out, or nothing", () => {
  assert.equal(describeAdjustments(undefined), null);
  assert.equal(describeAdjustments([]), null);
  assert.equal(describeAdjustments([{ option: "x" }, null, "text"]), null);
  const one = "OpenAI refused the prompt for gpt-transcribe, so this session runs without it.";
  assert.equal(describeAdjustments([{ option: "prompt", reason: one, learned: true }]), one);
  assert.equal(
    describeAdjustments([{ reason: "First one." }, { reason: " Second one. " }]),
    "First one. Second one.",
  );
  assert.equal(describeAdjustments([{ reason: "x".repeat(1000) }])!.length, 400);
});
