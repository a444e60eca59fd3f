import assert from "node:assert/strict";
import { startEmulator } from "../emulator/mod.ts";
import {
  backoffDelay,
  parseRetryAfter,
  retry,
  upstreamRetryDecision,
  withRetries,
} from "./retry.ts";
import { createUpstream, UpstreamError } from "./upstream.ts";
import { buildTranscriptionSession, resolveSessionOptions } from "./session_config.ts";

const session = buildTranscriptionSession(
  resolveSessionOptions({}, { defaultModel: "gpt-transcribe" }),
);

/** A sleep that records the asked delays and returns at once. */
function recordingSleep(): { waits: number[]; sleep: () => Promise<void> } {
  const waits: number[] = [];
  return {
    waits,
    sleep: (ms?: number) => {
      waits.push(ms ?? 0);
      return Promise.resolve();
    },
  } as { waits: number[]; sleep: () => Promise<void> };
}

Deno.test("backoffDelay() is full jitter below an exponential, capped ceiling", () => {
  const opts = { baseDelayMs: 100, maxDelayMs: 1000 };
  assert.equal(backoffDelay(0, { ...opts, random: () => 0 }), 0);
  assert.equal(backoffDelay(0, { ...opts, random: () => 0.999 }), 99);
  assert.equal(backoffDelay(3, { ...opts, random: () => 0.5 }), 400);
  // Capped: 100 · 2^10 would be 102 400.
  assert.equal(backoffDelay(10, { ...opts, random: () => 0.999 }), 999);
  for (let i = 0; i < 200; i++) {
    const d = backoffDelay(i % 6, opts);
    assert.ok(d >= 0 && d < Math.min(1000, 100 * 2 ** (i % 6)));
  }
});

Deno.test("parseRetryAfter() reads seconds and HTTP dates", () => {
  const now = Date.parse("2026-11-25T12:00:00Z");
  assert.equal(parseRetryAfter("2", now), 2000);
  assert.equal(parseRetryAfter("0.5", now), 500);
  assert.equal(parseRetryAfter("Wed, 25 Nov 2026 12:00:03 GMT", now), 3000);
  assert.equal(parseRetryAfter("Wed, 25 Nov 2026 11:00:00 GMT", now), 0);
  assert.equal(parseRetryAfter("soon", now), null);
  assert.equal(parseRetryAfter(null, now), null);
  assert.equal(parseRetryAfter("", now), null);
});

Deno.test("retry() stops at the attempt limit and at a refusal, rethrowing the last error", async () => {
  const { waits, sleep } = recordingSleep();
  let calls = 0;
  await assert.rejects(
    retry(() => {
      calls++;
      return Promise.reject(new Error(`boom ${calls}`));
    }, { attempts: 4, shouldRetry: () => true, sleep }),
    /boom 4/,
  );
  assert.equal(calls, 4);
  assert.equal(waits.length, 3);

  calls = 0;
  await assert.rejects(
    retry(() => {
      calls++;
      return Promise.reject(new TypeError("not retryable"));
    }, { attempts: 4, shouldRetry: (e) => !(e instanceof TypeError), sleep }),
    TypeError,
  );
  assert.equal(calls, 1);

  // A server-asked wait is honoured, and one beyond the cap goes back to the caller.
  const asked = recordingSleep();
  calls = 0;
  const value = await retry(() => {
    calls++;
    return calls < 2 ? Promise.reject(new Error("busy")) : Promise.resolve(42);
  }, {
    shouldRetry: () => ({ afterMs: 1500 }),
    random: () => 0,
    sleep: asked.sleep,
  });
  assert.equal(value, 42);
  assert.deepEqual(asked.waits, [1500]);
  calls = 0;
  await assert.rejects(
    retry(() => {
      calls++;
      return Promise.reject(new Error("come back in a minute"));
    }, { shouldRetry: () => ({ afterMs: 60_000 }), maxRetryAfterMs: 5000 }),
    /come back in a minute/,
  );
  assert.equal(calls, 1);
});

Deno.test("retry() gives up while waiting when its signal aborts", async () => {
  const controller = new AbortController();
  let calls = 0;
  const p = retry(() => {
    calls++;
    return Promise.reject(new Error("down"));
  }, {
    attempts: 10,
    baseDelayMs: 60_000,
    random: () => 0.9,
    shouldRetry: () => true,
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(), 20);
  await assert.rejects(p, /down/);
  assert.equal(calls, 1);
});

Deno.test("upstreamRetryDecision() retries only what is safe to repeat", () => {
  const err = (upstream: number | null, code = "upstream_error", ra?: string) =>
    new UpstreamError(
      upstream === 429 ? 429 : 502,
      code,
      "x",
      upstream,
      ra ?? null,
    );
  // Minting and hanging up are safe on any transient failure.
  for (const op of ["createClientSecret", "hangup"] as const) {
    assert.equal(upstreamRetryDecision(op, err(500)), true);
    assert.equal(upstreamRetryDecision(op, err(502)), true);
    assert.equal(
      upstreamRetryDecision(op, err(null, "upstream_unreachable")),
      true,
    );
    assert.equal(upstreamRetryDecision(op, err(400, "upstream_rejected")), false);
    assert.equal(
      upstreamRetryDecision(op, err(401, "server_key_rejected")),
      false,
    );
    assert.equal(upstreamRetryDecision(op, err(null, "missing_api_key")), false);
  }
  // Creating a call: a 500 may have created it, so only "not processed" answers are retried.
  assert.equal(upstreamRetryDecision("createCall", err(500)), false);
  assert.equal(upstreamRetryDecision("createCall", err(502)), false);
  assert.equal(
    upstreamRetryDecision("createCall", err(null, "upstream_timeout")),
    false,
  );
  assert.equal(upstreamRetryDecision("createCall", err(503)), true);
  assert.deepEqual(
    upstreamRetryDecision(
      "createCall",
      err(429, "upstream_rate_limited", "2"),
    ),
    { afterMs: 2000 },
  );
  assert.equal(upstreamRetryDecision("createCall", new Error("x")), false);
});

Deno.test("withRetries() recovers from transient emulator faults and passes on the rest", async () => {
  const emu = await startEmulator();
  try {
    const { waits, sleep } = recordingSleep();
    const logs: Record<string, unknown>[] = [];
    const up = withRetries(
      createUpstream({ baseUrl: emu.baseUrl, apiKey: emu.apiKey }),
      { attempts: 3, sleep, log: (_l, _m, fields) => logs.push(fields) },
    );
    const mint = () => up.createClientSecret(session, { ttlSeconds: 30 });

    // Two 5xx then success: the third attempt mints a key.
    emu.control.failRest({ endpoint: "client_secrets", status: 500, count: 1 });
    emu.control.failRest({ endpoint: "client_secrets", status: 503, count: 1 });
    assert.match((await mint()).value, /^ek_/);
    assert.equal(emu.control.faults.rest.length, 0);
    assert.equal(waits.length, 2);
    assert.deepEqual(logs.map((l) => l.upstreamStatus), [500, 503]);

    // 429 with the emulator's Retry-After: 1 is waited for at least one second.
    waits.length = 0;
    emu.control.failRest({ endpoint: "client_secrets", status: 429, count: 1 });
    assert.match((await mint()).value, /^ek_/);
    assert.equal(waits.length, 1);
    assert.ok(waits[0] >= 1000, `waited ${waits[0]} ms`);

    // Three failures use up the attempts: the caller gets the clear error.
    emu.control.failRest({ endpoint: "client_secrets", status: 502, count: 3 });
    await assert.rejects(mint(), (e) => {
      assert.ok(e instanceof UpstreamError);
      assert.equal(e.code, "upstream_error");
      assert.equal(e.upstreamStatus, 502);
      return true;
    });
    assert.equal(emu.control.faults.rest.length, 0);

    // A 400 is never retried: one of the two queued failures remains.
    emu.control.failRest({ endpoint: "client_secrets", status: 400, count: 2 });
    await assert.rejects(mint(), UpstreamError);
    assert.equal(emu.control.faults.rest[0]?.count, 1);
    emu.control.faults.rest.length = 0;

    // The app's default is two attempts: one retry.
    const twice = withRetries(
      createUpstream({ baseUrl: emu.baseUrl, apiKey: emu.apiKey }),
      { sleep },
    );
    emu.control.failRest({ endpoint: "client_secrets", status: 503, count: 2 });
    await assert.rejects(twice.createClientSecret(session, { ttlSeconds: 30 }), UpstreamError);
    assert.equal(emu.control.faults.rest.length, 0);
    emu.control.failRest({ endpoint: "client_secrets", status: 503, count: 1 });
    assert.match((await twice.createClientSecret(session, { ttlSeconds: 30 })).value, /^ek_/);

    // Creating a call is not retried after a 500 (it may exist) …
    emu.control.failRest({ endpoint: "calls", status: 500, count: 2 });
    await assert.rejects(
      up.createCall({ sdp: "v=0\r\n", session }),
      (e) => e instanceof UpstreamError && e.upstreamStatus === 500,
    );
    assert.equal(emu.control.faults.rest[0]?.count, 1);
    emu.control.faults.rest.length = 0;

    // … and hang-up is: a 500 then the real answer (404: no such call → false).
    emu.control.failRest({ endpoint: "hangup", status: 500, count: 1 });
    assert.equal(await up.hangup("rtc_u1_0123456789abcdef"), false);
    assert.equal(emu.control.faults.rest.length, 0);
  } finally {
    await emu.close();
  }
});
