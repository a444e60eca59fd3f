/**
 * Property-based fuzzing of every route over real loopback HTTP: malformed JSON, wrong types, huge
 * and unicode values, injection strings, odd methods and content types. Every answer must be a 4xx
 * JSON error (or a harmless 2xx/3xx for reads), never a 5xx, and nothing may change: the store's
 * sessions and events, the emulator's calls and the running sidebands stay as they were.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@4.10.2";
import { startTestApp, type TestApp } from "./server.ts";
import { CALL_ID_PATTERN } from "../lib/upstream.ts";
import { createTicket } from "../lib/ticket.ts";

const INJECTIONS = [
  "../../../../etc/passwd",
  "..%2F..%2Fetc%2Fpasswd",
  "rtc_../../v1/realtime/client_secrets",
  "rtc_abc/hangup",
  "rtc_abc?call_id=rtc_other",
  "rtc_abc#frag",
  "rtc_abc%00",
  "rtc_abc\r\nX-Injected: 1",
  "<script>alert(1)</script>",
  '"><img src=x onerror=alert(1)>',
  "' OR '1'='1' --",
  "'; DROP TABLE sessions; --",
  "${jndi:ldap://x/y}",
  "{{7*7}}",
  "__proto__",
  "constructor",
  "\u0000\u0001\u001f",
  "\ud83d\ude00".repeat(50),
  "\u202e\u2066evil",
  "ＡＢＣ",
  "%",
  "%%32%65",
  "-1",
  "1e309",
  "NaN",
  "null",
];

/** Inputs per run (10 000 by default; `FUZZ_RUNS` changes it, `FUZZ_SEED` replays a run). */
const RUNS = Number(Deno.env.get("FUZZ_RUNS") ?? 10_000);
const SEED = Number(Deno.env.get("FUZZ_SEED") ?? Date.now() % 2 ** 31);

const WEBHOOK_SECRET = "whsec_" + new Uint8Array(32).fill(7).toBase64();
const fuzzString = fc.oneof(
  fc.constantFrom(...INJECTIONS),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ maxLength: 10 }).map((s) => `rtc_${s}`),
);

/** A JSON value that can never be a valid request: objects carry an unknown key. */
const invalidJson = fc.jsonValue({ maxDepth: 3 }).map((v) => {
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    return JSON.stringify({ ...v, "\u0000fuzz": true });
  }
  return JSON.stringify(v);
});

const body = fc.oneof(
  invalidJson,
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 200 }),
  fc.constantFrom(...INJECTIONS),
  fc.constantFrom(
    "{",
    "[1,",
    '{"model":',
    '"unterminated',
    '{"model": 5}',
    '{"ticket":[]}',
  ),
  fc.record({
    ticket: fuzzString,
    sdp: fc.oneof(fuzzString, fc.constant("v=0\r\n" + "a=x\r\n".repeat(10))),
    model: fc.oneof(fuzzString, fc.integer(), fc.constant(null)),
    sessionId: fuzzString,
    code: fuzzString,
    keywords: fc.array(fuzzString, { maxLength: 3 }),
  }, { requiredKeys: [] }).map((r) => JSON.stringify({ ...r, extra: "\u0000" })),
  fc.constant("x".repeat(70 * 1024)),
);

const contentType = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-16",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=zzz",
  "multipart/form-data",
  "application/sdp",
  "application/octet-stream",
  "text/html",
  "",
  "\u00e9/\u00e9",
);

function seg(s: string): string {
  return encodeURIComponent(s);
}

type Req = {
  method: string;
  path: string;
  body?: string;
  headers: Record<string, string>;
};

/** A query string of one to three fuzzed `key=value` pairs, keys biased to the real ones. */
function queryArb(keys: string[]): fc.Arbitrary<string> {
  const pair = fc.tuple(fc.oneof(fc.constantFrom(...keys), fuzzString), fuzzString)
    .map(([k, v]) => `${seg(k)}=${seg(v)}`);
  return fc.array(pair, { minLength: 1, maxLength: 3 }).map((p) => p.join("&"));
}

/** A `Last-Event-ID` value that is never an event number (a valid one would open a live stream). */
const badLastEventId = fc.oneof(
  fc.constantFrom("-1", "1.5", "x", "1e3", "9".repeat(16)),
  fuzzString,
)
  .filter((s) => /^[\x20-\x7e]*$/.test(s) && !/^\d{1,15}$/.test(s.trim()));

/** Tickets and sessions the fuzzer aims at (minted before the snapshot). */
interface Targets {
  /** The genuine ticket of `sessionId`, a session translated into `es`. */
  ticket: string;
  sessionId: string;
  /** A second session (no translations) and its genuine ticket. */
  otherTicket: string;
  otherSessionId: string;
  /** A correctly signed ticket of `sessionId` that has expired. */
  expiredTicket: string;
}

/** An SDP that passes every relay's shape check (so only the ticket or the query can refuse it). */
const OFFER = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" +
  "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n";

/** One well-formed translation delta in `es`. */
const goodDelta = fc.record({
  eventId: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,40}$/),
  language: fc.constant("es"),
  kind: fc.constantFrom("output", "input"),
  text: fc.string({ maxLength: 40 }),
  elapsedMs: fc.integer({ min: 0, max: 86_400_000 }),
  atMs: fc.integer({ min: -86_400_000, max: 86_400_000 }),
  itemId: fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/),
}, { requiredKeys: ["eventId", "language", "text", "elapsedMs"] });

/** One change that makes a delta invalid whatever the rest of it is. */
const deltaSpoiler: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ language: fc.oneof(fc.constantFrom("de", "ES", "", "nl"), fuzzString) })
    .filter((r) => r.language !== "es"),
  fc.record({
    eventId: fc.oneof(
      fc.constantFrom("", "a b", "x".repeat(129)),
      fuzzString.filter((s) => !/^[A-Za-z0-9_.:-]{1,128}$/.test(s)),
    ),
  }),
  fc.record({ eventId: fc.oneof(fc.integer(), fc.constant(null), fc.constant([])) }),
  fc.record({ kind: fc.oneof(fuzzString, fc.integer()) })
    .filter((r) => r.kind !== "output" && r.kind !== "input"),
  fc.record({ text: fc.oneof(fc.constant("y".repeat(2001)), fc.integer(), fc.constant(null)) }),
  fc.record({
    elapsedMs: fc.oneof(
      fc.constantFrom(-1, 86_400_001, "1000", null, true, 1e309),
      fc.integer({ max: -1 }),
    ),
  }),
  fc.record({ atMs: fc.constantFrom(-86_400_001, 86_400_001, "0", null) }),
  fc.record({ itemId: fc.oneof(fc.constantFrom("", "item/1", "x".repeat(129)), fc.integer()) }),
  fc.record({ callId: fc.oneof(fuzzString, fc.constant("rtc_")) })
    .filter((r) => !/^rtc_[A-Za-z0-9_]{1,128}$/.test(String(r.callId))),
  fc.record({ "\u0000extra": fc.constant(1) }),
  fc.constant(JSON.parse('{"__proto__":{"admin":true}}') as Record<string, unknown>),
);

/**
 * A translation batch that can never be stored: bad deltas under the genuine ticket, or good
 * deltas under a ticket that is not `sessionId`'s (forged, expired, another session's).
 */
function translationBatchArb(t: Targets): fc.Arbitrary<{ path: string; body: string }> {
  const path = `/api/sessions/${t.sessionId}/translations`;
  const goodBatch = fc.array(goodDelta, { minLength: 1, maxLength: 5 });
  const spoiledBatch = fc.tuple(goodBatch, fc.nat(), deltaSpoiler).map(([deltas, i, bad]) => {
    const at = i % deltas.length;
    // Spread, not assignment: a `__proto__` key stays an own JSON key.
    deltas[at] = JSON.parse(
      JSON.stringify({ ...deltas[at] }).slice(0, -1) +
        "," + JSON.stringify(bad).slice(1),
    );
    return deltas;
  });
  const wrongTicket = fc.oneof(
    fc.constant(t.expiredTicket),
    fc.constant(t.otherTicket),
    fc.constant(t.ticket.slice(0, -2) + (t.ticket.endsWith("AA") ? "BB" : "AA")),
    fc.constant(t.ticket.split(".")[0]),
    fc.constant(t.ticket + "."),
    fuzzString,
  );
  const here = fc.oneof(
    // The genuine ticket with deltas that break the schema, in number or in shape.
    fc.record({ ticket: fc.constant(t.ticket), deltas: spoiledBatch }),
    fc.record({
      ticket: fc.constant(t.ticket),
      deltas: fc.oneof(
        fc.constant([]),
        goodDelta.map((d) => Array.from({ length: 201 }, (_, i) => ({ ...d, eventId: `e${i}` }))),
        goodDelta,
        fuzzString,
        fc.constant(null),
      ),
    }),
    fc.record({ ticket: fc.constant(t.ticket), deltas: goodBatch, extra: fuzzString }),
    fc.record({ deltas: goodBatch }),
    fc.record({
      ticket: fc.oneof(fc.integer(), fc.constant(null), fc.constant([t.ticket])),
      deltas: goodBatch,
    }),
    // Good deltas under a ticket that does not open this session.
    fc.record({ ticket: wrongTicket, deltas: goodBatch }),
  ).map((b) => ({ path, body: JSON.stringify(b) }));
  // The genuine ticket and a good batch on another session's path (forged id or the other one).
  const elsewhere = fc.oneof(
    fuzzString.map(seg),
    fc.constant(t.otherSessionId),
    fc.constant("a".repeat(22)),
  ).map((id) => ({ path: `/api/sessions/${id}/translations`, id }))
    .chain(({ path }) =>
      goodBatch.map((deltas) => ({ path, body: JSON.stringify({ ticket: t.ticket, deltas }) }))
    );
  return fc.oneof({ arbitrary: here, weight: 5 }, { arbitrary: elsewhere, weight: 1 });
}

/**
 * A translation relay request that can never start a call: a bad `lang`, the genuine ticket with
 * a body that is not an offer, or an offer under a ticket that does not open a session with `es`.
 */
function translationRelayArb(t: Targets): fc.Arbitrary<{ path: string; body: string }> {
  const notAnOffer = fc.oneof(
    fuzzString,
    fc.constant("v=0\r\n" + "a=x\r\n".repeat(10)),
    fc.constant("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"),
    fc.constant("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" + OFFER),
    fc.constant("V=0" + OFFER.slice(3)),
    fc.constant(OFFER + "a=x\r\n".repeat(40_000)),
    fc.integer(),
    fc.constant(null),
  );
  const badLang = fc.oneof(
    fc.constantFrom("", "ES", "es-ES", "nl", "es%00", "es&lang=es"),
    fuzzString,
  ).filter((l) => l !== "es" && l !== "de");
  const query = fc.oneof(
    // `lang` missing, empty, repeated with a bad first value, or a valid one not asked for.
    fc.constant(""),
    badLang.map((l) => `?lang=${seg(l)}`),
    badLang.map((l) => `?lang=${seg(l)}&lang=es`),
    fc.constant("?lang=de"),
    queryArb(["lang", "model", "call_id"]).filter((q) => !/(^|&)lang=es(&|$)/.test(q))
      .map((q) => `?${q}`),
  );
  const body = fc.oneof(
    fc.record({ ticket: fc.constant(t.ticket), sdp: fc.constant(OFFER) }),
    fc.record({ ticket: fc.constant(t.otherTicket), sdp: fc.constant(OFFER) }),
  );
  const refusedWithEs = fc.oneof(
    fc.record({ ticket: fc.constant(t.ticket), sdp: notAnOffer }),
    fc.record({ ticket: fc.constant(t.ticket), sdp: fc.constant(OFFER), model: fuzzString }),
    fc.record({ ticket: fc.constant(t.ticket) }),
    fc.record({ sdp: fc.constant(OFFER) }),
    fc.record({
      ticket: fc.oneof(
        fc.constant(t.expiredTicket),
        fc.constant(t.otherTicket),
        fc.constant(t.ticket.slice(0, -2) + (t.ticket.endsWith("AA") ? "BB" : "AA")),
        fuzzString,
        fc.integer(),
      ),
      sdp: fc.constant(OFFER),
    }),
  );
  return fc.oneof(
    fc.tuple(query, body).map(([q, b]) => ({
      path: `/api/calls/translation${q}`,
      body: JSON.stringify(b),
    })),
    refusedWithEs.map((b) => ({
      path: "/api/calls/translation?lang=es",
      body: JSON.stringify(b),
    })),
  );
}

function requestArb(targets: Targets): fc.Arbitrary<Req> {
  const { ticket, sessionId } = targets;
  // `withTicket`: may carry the genuine ticket; only where the request is invalid for other reasons.
  const post = (path: fc.Arbitrary<string>, withTicket = false) =>
    fc.record({
      method: fc.constantFrom(
        "POST",
        "POST",
        "POST",
        "POST",
        "PUT",
        "PATCH",
        "DELETE",
      ),
      path,
      body,
      ct: contentType,
      origin: fc.constantFrom<string | null>(
        null,
        null,
        null,
        "https://evil.example",
        "null",
      ),
      useTicket: fc.boolean(),
      sig: fc.boolean(),
    }).map((r) => {
      const headers: Record<string, string> = {};
      if (r.ct) headers["Content-Type"] = r.ct;
      if (r.origin) headers["Origin"] = r.origin;
      if (r.useTicket && withTicket) headers["X-Ticket"] = ticket;
      if (r.sig) {
        headers["webhook-id"] = "wh_fuzz";
        headers["webhook-timestamp"] = String(Math.floor(Date.now() / 1000));
        headers["webhook-signature"] = "v1,AAAA";
      }
      return { method: r.method, path: r.path, body: r.body, headers };
    });
  // A request aimed at a real session whose body is invalid by construction (see the arbitraries).
  const aimed = (target: fc.Arbitrary<{ path: string; body: string }>) =>
    fc.record({
      target,
      method: fc.constantFrom("POST", "POST", "POST", "POST", "PUT", "DELETE"),
      ct: contentType,
      origin: fc.constantFrom<string | null>(null, null, null, "https://evil.example"),
    }).map((r) => {
      const headers: Record<string, string> = {};
      if (r.ct) headers["Content-Type"] = r.ct;
      if (r.origin) headers["Origin"] = r.origin;
      return { method: r.method, path: r.target.path, body: r.target.body, headers };
    });
  const badCallId = fuzzString.filter((s) => !CALL_ID_PATTERN.test(s));
  const anyCallId = fc.oneof(badCallId, fc.constant("rtc_u1_doesnotexist0000"));
  const get = fc.record({
    method: fc.constantFrom("GET", "HEAD", "OPTIONS", "TRACE_", "PROPFIND"),
    path: fc.oneof(
      fc.constantFrom(
        "/",
        "/api/config",
        "/api/models",
        "/api/sessions",
        "/auth/signin",
      ),
      fuzzString.map((s) => `/frontend/${seg(s)}`),
      fuzzString.map((s) => `/shared/${s}`),
      fuzzString.map((s) => `/s/${seg(s)}`),
      fuzzString.map((s) => `/api/sessions/${seg(s)}`),
      fuzzString.map((s) => `/api/sessions/${seg(s)}/events`),
      fuzzString.map((s) => `/auth/signin?next=${seg(s)}`),
      fuzzString.map((s) => `/${seg(s)}`),
    ),
    // Reads from another site's page (refused under /api) or the app's own.
    site: fc.constantFrom<string | null>(null, null, "cross-site", "same-site", "same-origin"),
  }).map(({ site, ...r }) => {
    const headers: Record<string, string> = {};
    if (site) headers["Sec-Fetch-Site"] = site;
    if (site === "cross-site") headers["Origin"] = "https://evil.example";
    return { ...r, headers };
  });
  // Queries and headers of the session routes, aimed at the one real session.
  const sessionReads = fc.oneof(
    queryArb(["limit", "cursor"]).map((q) => `/api/sessions?${q}`),
    queryArb(["format", "download"]).map((q) => `/api/sessions/${sessionId}/transcript?${q}`),
  ).map((path) => ({ method: "GET", path, headers: {} as Record<string, string> }));
  const resume = badLastEventId.map((id) => ({
    method: "GET",
    path: `/api/sessions/${sessionId}/events`,
    headers: { "Last-Event-ID": id } as Record<string, string>,
  }));
  return fc.oneof(
    post(
      fc.constantFrom(
        "/api/session",
        "/api/calls",
        "/auth/signin",
        "/webhooks/openai",
      ),
    ),
    post(badCallId.map((id) => `/api/calls/${seg(id)}/sideband`), true),
    post(badCallId.map((id) => `/api/calls/${seg(id)}/hangup`), true),
    post(anyCallId.map((id) => `/api/calls/${seg(id)}/sideband`)),
    post(anyCallId.map((id) => `/api/calls/${seg(id)}/hangup`)),
    post(fuzzString.map((id) => `/internal/sideband/${seg(id)}`)),
    post(fuzzString.map((id) => `/api/sessions/${seg(id)}`)),
    post(fuzzString.map((id) => `/api/sessions/${seg(id)}/utterances`)),
    post(fuzzString.map((id) => `/api/sessions/${seg(id)}/translations`)),
    post(queryArb(["lang"]).map((q) => `/api/calls/translation?${q}`)),
    aimed(translationBatchArb(targets)),
    aimed(translationRelayArb(targets)),
    get,
    sessionReads,
    resume,
  );
}

/** Everything a request could change, as one comparable value. */
async function snapshot(t: TestApp): Promise<string> {
  const { sessions } = await t.store.listSessions({ limit: 1000 });
  const rows = [];
  for (const s of sessions) {
    const events = await t.store.listEvents(s.id);
    const utterances = await t.store.listUtterances(s.id);
    const translations = (await t.store.listTranslationDeltas?.(s.id))?.length;
    rows.push({ s, events: events.length, utterances, translations });
  }
  return JSON.stringify({
    rows,
    calls: t.emulator.control.calls().length,
    sidebands: t.sidebands.list().length,
  });
}

Deno.test(`fuzz: ${RUNS} malformed requests over every route get 4xx JSON errors and change nothing (seed ${SEED})`, async () => {
  const t = await startTestApp({
    env: {
      SIP_ENABLED: "true",
      OPENAI_WEBHOOK_SECRET: WEBHOOK_SECRET,
      RATE_MINTS_PER_MINUTE_PER_IP: "1000",
      RATE_MINTS_PER_MINUTE: "1000",
      // Else every write after the 60th is a 429 and the routes behind the limit go untested.
      WRITES_PER_MINUTE_PER_IP: "100000",
    },
  });
  try {
    // Legitimate sessions so tickets and ids exist for the fuzzer to aim at: one translated
    // into Spanish (with one stored delta), one without translations.
    const mint = async (body: unknown) => {
      const res = await fetch(`${t.baseUrl}/api/session`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 200);
      return await res.json() as { ticket: string; sessionId: string };
    };
    const { ticket, sessionId } = await mint({ translations: ["es"] });
    const other = await mint({});
    const stored = await fetch(`${t.baseUrl}/api/sessions/${sessionId}/translations`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        ticket,
        deltas: [{ eventId: "event_seed", language: "es", text: "hola", elapsedMs: 10 }],
      }),
    });
    assert.equal(stored.status, 200, await stored.text());
    const targets: Targets = {
      ticket,
      sessionId,
      otherTicket: other.ticket,
      otherSessionId: other.sessionId,
      expiredTicket: await createTicket(sessionId, {
        secret: t.deps.config.signingSecret,
        ttlSeconds: -60,
      }),
    };
    const before = await snapshot(t);
    assert.match(before, /"translations":1/);
    let requests = 0;
    await fc.assert(
      fc.asyncProperty(requestArb(targets), async (req) => {
        requests++;
        const res = await fetch(`${t.baseUrl}${req.path}`, {
          method: req.method,
          headers: req.headers,
          body: ["GET", "HEAD", "OPTIONS", "TRACE_", "PROPFIND"].includes(
              req.method,
            )
            ? undefined
            : req.body,
          redirect: "manual",
        });
        const text = await res.text();
        const where = `${req.method} ${req.path} ${JSON.stringify(req.headers)} → ${res.status}`;
        assert.ok(res.status < 500, `${where}: ${text.slice(0, 300)}`);
        const isSigninForm = req.path === "/auth/signin" &&
          !(req.headers["Content-Type"] ?? "").startsWith("application/json");
        // Pages (share links) may answer people with an HTML error page; APIs answer JSON.
        const isPageRead = req.method === "GET" &&
          !req.path.startsWith("/api/");
        if (
          res.status >= 400 && !isSigninForm && !isPageRead &&
          req.method !== "HEAD"
        ) {
          assert.match(
            res.headers.get("content-type") ?? "",
            /application\/json/,
            where,
          );
          const json = JSON.parse(text);
          assert.equal(typeof json.error?.code, "string", where);
          assert.equal(typeof json.error?.message, "string", where);
        }
        if (req.method !== "GET" && req.method !== "HEAD") {
          assert.ok(
            res.status >= 400 || req.path.startsWith("/auth/signout"),
            where,
          );
        }
        assert.ok(
          res.headers.get("content-security-policy"),
          `${where}: no CSP`,
        );
        assert.equal(await snapshot(t), before, `${where}: state changed`);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    assert.equal(requests >= RUNS, true);
  } finally {
    await t.close();
  }
});

Deno.test("fuzz: sign-in with an access code rejects every wrong code and sets no cookie", async () => {
  const t = await startTestApp({
    env: { ACCESS_CODE: "correct horse battery" },
  });
  try {
    await fc.assert(
      fc.asyncProperty(
        fuzzString.filter((s) => s !== "correct horse battery"),
        fc.boolean(),
        async (code, asJson) => {
          const res = await fetch(`${t.baseUrl}/auth/signin`, {
            method: "POST",
            redirect: "manual",
            headers: {
              "Content-Type": asJson ? "application/json" : "application/x-www-form-urlencoded",
            },
            body: asJson ? JSON.stringify({ code }) : new URLSearchParams({ code }).toString(),
          });
          await res.body?.cancel();
          assert.ok(
            [400, 401, 429].includes(res.status),
            `${JSON.stringify(code)} → ${res.status}`,
          );
          assert.equal(res.headers.get("set-cookie"), null);
          const api = await fetch(`${t.baseUrl}/api/config`);
          await api.body?.cancel();
          assert.equal(api.status, 401);
        },
      ),
      { numRuns: 40 },
    );
  } finally {
    await t.close();
  }
});
