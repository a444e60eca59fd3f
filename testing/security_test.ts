/**
 * The security controls on the whole app (`createApp` via `testing/server.ts`) over loopback HTTP
 * against the emulator: headers, same-origin, body limits, mint limits, the access gate, tickets
 * bound to their session, call-id validation before any upstream URL, and the internal secret.
 * The maximum session length (real Chromium) is in `spend_caps_test.ts`.
 */
import assert from "node:assert/strict";
import { startTestApp, type TestApp } from "./server.ts";
import { insideOneWindow } from "./clock.ts";
import { createTicket } from "../lib/ticket.ts";
import { INTERNAL_SECRET_HEADER } from "../lib/sideband_registry.ts";

const JSON_POST = {
  method: "POST",
  headers: { "Content-Type": "application/json" },
};

async function mint(t: TestApp, init: RequestInit = {}) {
  const res = await fetch(`${t.baseUrl}/api/session`, {
    ...JSON_POST,
    body: "{}",
    ...init,
  });
  const body = await res.json();
  return { res, body };
}

async function post(
  t: TestApp,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${t.baseUrl}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function sessionCount(t: TestApp) {
  return (await t.store.listSessions({ limit: 1000 })).sessions.length;
}

Deno.test("app: every response carries the CSP naming the Realtime origin", async () => {
  const t = await startTestApp();
  try {
    for (const path of ["/", "/api/config", "/nope", "/frontend/app.js"]) {
      const res = await fetch(`${t.baseUrl}${path}`);
      await res.body?.cancel();
      const csp = res.headers.get("content-security-policy") ?? "";
      assert.match(
        csp,
        new RegExp(
          `connect-src 'self' ${t.emulator.baseUrl.replace(/[.:/]/g, "\\$&")}`,
        ),
        path,
      );
      assert.match(csp, /script-src 'self';/);
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    }
    const html = await (await fetch(`${t.baseUrl}/`)).text();
    assert.doesNotMatch(
      html,
      /<script(?![^>]*\bsrc=)[^>]*>/i,
      "no inline script in the page",
    );
    assert.doesNotMatch(html, /\son[a-z]+=/i, "no inline event handlers");
  } finally {
    await t.close();
  }
});

Deno.test("app: cross-site and oversized mints are refused before anything is spent", async () => {
  const t = await startTestApp();
  try {
    const evil = await mint(t, {
      headers: {
        "Content-Type": "application/json",
        Origin: "https://evil.example",
      },
    });
    assert.equal(evil.res.status, 403);
    assert.equal(evil.body.error.code, "cross_origin_request");
    const site = await mint(t, { headers: { "Sec-Fetch-Site": "cross-site" } });
    assert.equal(site.res.status, 403);
    const big = await mint(t, {
      body: JSON.stringify({ prompt: "x".repeat(100_000) }),
    });
    assert.equal(big.res.status, 413);
    assert.equal(await sessionCount(t), 0);
    const ok = await mint(t, {
      headers: { "Content-Type": "application/json", Origin: t.baseUrl },
    });
    assert.equal(ok.res.status, 200);
    assert.equal(await sessionCount(t), 1);
  } finally {
    await t.close();
  }
});

Deno.test("app: session mints are rate limited per client with 429 and Retry-After", async () => {
  const t = await startTestApp({ env: { RATE_MINTS_PER_MINUTE_PER_IP: "2" } });
  try {
    await insideOneWindow();
    assert.equal((await mint(t)).res.status, 200);
    assert.equal((await mint(t)).res.status, 200);
    const third = await mint(t);
    assert.equal(third.res.status, 429);
    assert.equal(third.body.error.code, "rate_limited");
    const wait = Number(third.res.headers.get("retry-after"));
    assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
    assert.equal(await sessionCount(t), 2);
  } finally {
    await t.close();
  }
});

Deno.test("app: concurrent sessions are capped globally", async () => {
  const t = await startTestApp({ env: { MAX_CONCURRENT_SESSIONS: "1" } });
  try {
    assert.equal((await mint(t)).res.status, 200);
    const second = await mint(t);
    assert.equal(second.res.status, 429);
    assert.equal(second.body.error.code, "too_many_sessions");
    assert.ok(Number(second.res.headers.get("retry-after")) > 0);
    assert.equal(await sessionCount(t), 1);
  } finally {
    await t.close();
  }
});

Deno.test("app: concurrent sessions are capped per client", async () => {
  const t = await startTestApp({
    env: {
      MAX_CONCURRENT_SESSIONS_PER_IP: "1",
      MAX_CONCURRENT_SESSIONS: "100",
    },
  });
  try {
    assert.equal((await mint(t)).res.status, 200);
    const second = await mint(t);
    assert.equal(second.res.status, 429);
    assert.equal(second.body.error.code, "too_many_sessions");
    const [only] = (await t.store.listSessions({ limit: 5 })).sessions;
    assert.ok(
      await t.store.sessionClientKey(only.id),
      "the session has a client key",
    );
  } finally {
    await t.close();
  }
});

Deno.test("app: with an access code, pages redirect and APIs answer 401; webhook and internal keep their own checks", async () => {
  const t = await startTestApp({ env: { ACCESS_CODE: "let-me-in-please" } });
  try {
    const page = await fetch(`${t.baseUrl}/`, {
      redirect: "manual",
      headers: { Accept: "text/html" },
    });
    await page.body?.cancel();
    assert.equal(page.status, 302);
    assert.equal(page.headers.get("location"), "/auth/signin?next=%2F");
    for (const path of ["/api/config", "/api/models"]) {
      const res = await fetch(`${t.baseUrl}${path}`);
      assert.equal(res.status, 401, path);
      await res.body?.cancel();
    }
    assert.equal((await mint(t)).res.status, 401);
    assert.equal(await sessionCount(t), 0);
    const internal = await post(t, "/internal/sideband/rtc_u1_abc", {
      sessionId: "x",
    });
    assert.equal(
      internal.status,
      403,
      "the internal route answers with its own secret check",
    );
    const hook = await fetch(`${t.baseUrl}/webhooks/openai`, {
      method: "POST",
      body: "{}",
    });
    // The webhook is not behind the access cookie: it answers with its own check (no secret set).
    assert.equal(hook.status, 503);
    assert.equal((await hook.json()).error.code, "webhook_not_configured");

    const signin = await fetch(`${t.baseUrl}/auth/signin`, {
      method: "POST",
      redirect: "manual",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Origin: t.baseUrl,
      },
      body: "code=let-me-in-please&next=%2F",
    });
    await signin.body?.cancel();
    assert.equal(signin.status, 302);
    const cookie = (signin.headers.get("set-cookie") ?? "").split(";")[0];
    const config = await fetch(`${t.baseUrl}/api/config`, {
      headers: { Cookie: cookie },
    });
    assert.equal(config.status, 200);
    const cfg = await config.json();
    assert.equal(cfg.access, "access_code");
    assert.equal(typeof cfg.limits.maxSessionSeconds, "number");
  } finally {
    await t.close();
  }
});

Deno.test("app: tickets must be genuine, unexpired and for the session that owns the call", async () => {
  const t = await startTestApp();
  try {
    const a = (await mint(t)).body;
    const b = (await mint(t)).body;
    const secret = t.deps.config.signingSecret;
    const forged = await createTicket(a.sessionId, {
      secret: "not-the-secret-0123456789",
      ttlSeconds: 600,
    });
    const expired = await createTicket(a.sessionId, {
      secret,
      ttlSeconds: 10,
      now: Date.now() - 60_000,
    });
    const [payload, mac] = a.ticket.split(".");
    const other = JSON.parse(
      new TextDecoder().decode(
        Uint8Array.fromBase64(payload, { alphabet: "base64url" }),
      ),
    );
    other.sessionId = b.sessionId;
    const swapped = `${
      new TextEncoder().encode(JSON.stringify(other)).toBase64({
        alphabet: "base64url",
        omitPadding: true,
      })
    }.${mac}`;
    for (
      const [name, ticket] of [["forged", forged], ["expired", expired], [
        "swapped",
        swapped,
      ], ["junk", "x.y"]]
    ) {
      for (const action of ["sideband", "hangup"]) {
        const res = await post(
          t,
          `/api/calls/rtc_u1_0123456789abcdef/${action}`,
          { ticket },
        );
        assert.equal(res.status, 401, `${name} ticket on ${action}`);
        assert.equal(res.body.error.code, "invalid_ticket");
      }
      const relay = await post(t, "/api/calls", {
        ticket,
        sdp: "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n",
      });
      assert.equal(relay.status, 401, `${name} ticket on relay`);
    }
    // Session A owns a call; B's genuine ticket cannot attach to it or hang it up.
    await t.store.updateSession(a.sessionId, {
      callId: "rtc_u1_ownedbya00000000",
    });
    for (const action of ["sideband", "hangup"]) {
      const res = await post(
        t,
        `/api/calls/rtc_u1_ownedbya00000000/${action}`,
        { ticket: b.ticket },
      );
      assert.ok(
        [403, 409].includes(res.status),
        `B on A's call (${action}) → ${res.status}`,
      );
    }
    assert.equal((await t.store.getSession(b.sessionId))?.callId, null);
    assert.equal(t.sidebands.list().length, 0, "no sideband was started");
    assert.equal(
      t.emulator.control.calls().length,
      0,
      "nothing reached the call endpoints",
    );
  } finally {
    await t.close();
  }
});

Deno.test("app: call ids are validated before they reach any upstream URL", async () => {
  const t = await startTestApp();
  try {
    const { sessionId, ticket } = (await mint(t)).body;
    const bad = [
      "..",
      "rtc_..",
      "rtc_abc/../../client_secrets",
      "rtc_abc?call_id=rtc_other",
      "rtc_abc#x",
      "rtc_abc&model=x",
      "rtc_abc\r\nX-Injected: 1",
      "rtc_abc%00",
      "rtc_<script>",
      "RTC_abc",
      "sess_abc",
      "rtc_" + "a".repeat(300),
      "rtc_é",
    ];
    const seen: number[] = [];
    for (const id of bad) {
      for (const action of ["sideband", "hangup"]) {
        const res = await fetch(
          `${t.baseUrl}/api/calls/${encodeURIComponent(id)}/${action}`,
          {
            ...JSON_POST,
            body: JSON.stringify({ ticket }),
          },
        );
        const body = await res.json();
        seen.push(res.status);
        assert.ok(
          [400, 404].includes(res.status),
          `${JSON.stringify(id)} ${action} → ${res.status}`,
        );
        assert.equal(typeof body.error.code, "string");
      }
      const internal = await fetch(
        `${t.baseUrl}/internal/sideband/${encodeURIComponent(id)}`,
        {
          ...JSON_POST,
          headers: {
            ...JSON_POST.headers,
            [INTERNAL_SECRET_HEADER]: t.deps.config.internalSecret,
          },
          body: JSON.stringify({ sessionId }),
        },
      );
      await internal.body?.cancel();
      assert.ok(
        [400, 404].includes(internal.status),
        `internal ${JSON.stringify(id)} → ${internal.status}`,
      );
    }
    assert.ok(
      seen.includes(400),
      "the call-id check itself answered (not only the router)",
    );
    assert.equal((await t.store.getSession(sessionId))?.callId, null);
    assert.equal(t.sidebands.list().length, 0);
    assert.equal(t.emulator.control.calls().length, 0);
  } finally {
    await t.close();
  }
});

Deno.test("app: internal routes need the internal secret and never start a sideband without it", async () => {
  const t = await startTestApp();
  try {
    const { sessionId } = (await mint(t)).body;
    const path = "/internal/sideband/rtc_u1_0123456789abcdef";
    const wrong = [
      {},
      { [INTERNAL_SECRET_HEADER]: "" },
      { [INTERNAL_SECRET_HEADER]: "wrong-secret-0123456789" },
      { [INTERNAL_SECRET_HEADER]: t.deps.config.internalSecret.slice(0, -1) },
      { [INTERNAL_SECRET_HEADER]: `${t.deps.config.internalSecret} ` + "x" },
      { Authorization: `Bearer ${t.deps.config.internalSecret}` },
    ] as Record<string, string>[];
    for (const headers of wrong) {
      const res = await post(t, path, { sessionId }, headers);
      assert.ok(
        [401, 403].includes(res.status),
        `${JSON.stringify(Object.keys(headers))} → ${res.status}`,
      );
    }
    const query = await post(
      t,
      `${path}?secret=${encodeURIComponent(t.deps.config.internalSecret)}`,
      { sessionId },
    );
    assert.ok([401, 403].includes(query.status));
    assert.equal(t.sidebands.list().length, 0);
    assert.equal((await t.store.getSession(sessionId))?.status, "pending");
    assert.equal((await t.store.getSession(sessionId))?.callId, null);
  } finally {
    await t.close();
  }
});
