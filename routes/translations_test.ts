/**
 * The translation routes over real HTTP against the emulator: the `translations` option of
 * `POST /api/session` (keys per language, the relay), the batch route (idempotent by event id,
 * every bad input a 4xx JSON error that changes nothing), what `GET /api/sessions/:id`, the SSE
 * stream and the exports show, and a session with translations weighing 1 + its languages on the
 * caps.
 */
import assert from "node:assert/strict";
import { countSessions, createTestPeer, postJson, startTestApp } from "../testing/server.ts";
import type { TestApp } from "../testing/server.ts";
import { insideOneWindow } from "../testing/clock.ts";
import { readSse } from "../testing/sessions_kit.ts";
import { chargeSessionUsage, DAY_MS } from "../lib/security/limits.ts";
import { MAX_TRANSLATION_CALLS_PER_LANGUAGE } from "../lib/translations.ts";

/** Room for several sessions with translations from one address (each holds 1 + languages). */
const ROOMY = { MAX_CONCURRENT_SESSIONS_PER_IP: "20", RATE_MINTS_PER_MINUTE_PER_IP: "100" };

/** Mints a session with translations and returns its answer. */
async function mint(t: TestApp, body: Record<string, unknown>) {
  const r = await postJson(t.baseUrl, "/api/session", body);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json;
}

function delta(i: number, language = "es", extra: Record<string, unknown> = {}) {
  return {
    eventId: `event_${language}_${i}`,
    language,
    text: ` word${i}`,
    elapsedMs: 1000 + i * 200,
    ...extra,
  };
}

Deno.test("POST /api/session with translations: one translation key per language, counted as calls", async () => {
  const t = await startTestApp({ env: ROOMY });
  try {
    const r = await mint(t, { translations: ["es", "de"] });
    assert.deepEqual(r.translations.map((x: { language: string }) => x.language), ["es", "de"]);
    for (const target of r.translations) {
      assert.match(target.ephemeralKey, /^ek_/);
      assert.equal(target.url, `${t.emulator.baseUrl}/v1/realtime/translations/calls`);
      assert.equal(target.relayUrl, `/api/calls/translation?lang=${target.language}`);
      assert.ok(target.expiresAt > Date.now() / 1000);
    }
    assert.deepEqual(r.translations.map((x: { name: string }) => x.name), ["Spanish", "German"]);
    // The emulator holds a translation secret in each language.
    const secrets = JSON.stringify([
      ...(t.emulator.control.state as unknown as { secrets: Map<string, unknown> }).secrets
        .values(),
    ]);
    assert.match(secrets, /"language":"es"/);
    assert.match(secrets, /"language":"de"/);
    const row = await t.store.getSession(r.sessionId);
    assert.deepEqual(row?.settings.translations, ["es", "de"]);
    assert.equal(await t.store.sessionCalls(r.sessionId), 3);
    // Without translations: none, and one call.
    const plain = await mint(t, {});
    assert.deepEqual(plain.translations, []);
    assert.equal(await t.store.sessionCalls(plain.sessionId), 1);
  } finally {
    await t.close();
  }
});

Deno.test("POST /api/session refuses bad translations with a 400 naming `translations`; nothing is stored", async () => {
  const t = await startTestApp();
  const zero = await startTestApp({ env: { MAX_TRANSLATIONS: "0" } });
  try {
    for (
      const [app, translations] of [
        [t, ["nl"]],
        [t, ["ES"]],
        [t, ["es", "es"]],
        [t, ["es", "de", "fr", "it"]],
        [t, "es"],
        [t, [1]],
        [zero, ["es"]],
      ] as const
    ) {
      const before = await countSessions(app.store);
      const r = await postJson(app.baseUrl, "/api/session", { translations });
      assert.equal(r.status, 400, JSON.stringify(translations));
      assert.equal(r.json.error.code, "invalid_option");
      assert.equal(r.json.error.field, "translations");
      assert.match(r.json.error.message, /translations/);
      assert.equal(await countSessions(app.store), before);
    }
    const four = await startTestApp({ env: { ...ROOMY, MAX_TRANSLATIONS: "4" } });
    try {
      const ok = await postJson(four.baseUrl, "/api/session", {
        translations: ["es", "de", "fr", "it"],
      });
      assert.equal(ok.status, 200);
    } finally {
      await four.close();
    }
  } finally {
    await t.close();
    await zero.close();
  }
});

Deno.test("POST /api/sessions/:id/translations stores deltas once by event id; bad input changes nothing", async () => {
  const t = await startTestApp({ env: ROOMY });
  try {
    const r = await mint(t, { translations: ["es", "de"] });
    const other = await mint(t, { translations: ["es"] });
    const path = `/api/sessions/${r.sessionId}/translations`;
    const stored = async () => (await t.store.listTranslationDeltas(r.sessionId)).length;
    const first = await postJson(t.baseUrl, path, {
      ticket: r.ticket,
      deltas: [delta(1), delta(2), delta(1, "de", { kind: "output", atMs: 900 })],
    });
    assert.equal(first.status, 200);
    assert.deepEqual(first.json, { added: 3, duplicates: 0 });
    const again = await postJson(t.baseUrl, path, {
      ticket: r.ticket,
      deltas: [delta(2), delta(3)],
    });
    assert.deepEqual(again.json, { added: 1, duplicates: 1 });
    assert.equal(await stored(), 4);

    const bad: Array<[string, unknown, number, string]> = [
      [path, { deltas: [delta(9)] }, 400, "invalid_request"],
      [path, { ticket: "bad", deltas: [delta(9)] }, 401, "invalid_ticket"],
      [path, { ticket: other.ticket, deltas: [delta(9)] }, 403, "ticket_mismatch"],
      [path, { ticket: r.ticket, deltas: [] }, 400, "invalid_request"],
      [path, { ticket: r.ticket, deltas: [delta(9, "fr")] }, 400, "invalid_language"],
      [path, { ticket: r.ticket, deltas: [delta(9, "xx")] }, 400, "invalid_request"],
      [
        path,
        { ticket: r.ticket, deltas: [delta(9, "es", { text: "x".repeat(2001) })] },
        400,
        "invalid_request",
      ],
      [
        path,
        { ticket: r.ticket, deltas: [delta(9, "es", { elapsedMs: -1 })] },
        400,
        "invalid_request",
      ],
      [
        path,
        { ticket: r.ticket, deltas: [delta(9, "es", { eventId: "a b" })] },
        400,
        "invalid_request",
      ],
      [path, { ticket: r.ticket, deltas: [delta(9, "es", { extra: 1 })] }, 400, "invalid_request"],
      [path, { ticket: r.ticket, deltas: [delta(9)], more: 1 }, 400, "invalid_request"],
      [
        path,
        {
          ticket: r.ticket,
          deltas: Array.from({ length: 201 }, (_, i) => delta(100 + i)),
        },
        400,
        "invalid_request",
      ],
      [path, "[", 400, "invalid_json"],
      [
        "/api/sessions/short/translations",
        { ticket: r.ticket, deltas: [delta(9)] },
        400,
        "invalid_session_id",
      ],
    ];
    for (const [where, body, status, code] of bad) {
      const res = await postJson(t.baseUrl, where, body);
      assert.equal(res.status, status, JSON.stringify(body).slice(0, 200));
      assert.equal(res.json.error.code, code, JSON.stringify(res.json));
      assert.equal(typeof res.json.error.message, "string");
      assert.equal(await stored(), 4);
    }
    // A deleted session: its ticket finds nothing.
    await t.store.deleteSession(other.sessionId);
    const gone = await postJson(t.baseUrl, `/api/sessions/${other.sessionId}/translations`, {
      ticket: other.ticket,
      deltas: [delta(1)],
    });
    assert.equal(gone.status, 404);

    // GET shows them, in stored order.
    const detail = await (await fetch(`${t.baseUrl}/api/sessions/${r.sessionId}`)).json();
    assert.deepEqual(detail.translations.languages, ["es", "de"]);
    assert.deepEqual(
      detail.translations.deltas.map((d: { eventId: string; atMs: number }) => [d.eventId, d.atMs]),
      [["event_es_1", 1200], ["event_es_2", 1400], ["event_de_1", 900], ["event_es_3", 1600]],
    );
    assert.equal(detail.translations.lastSeq, detail.translations.deltas[3].seq);
  } finally {
    await t.close();
  }
});

Deno.test("exports: ?lang= gives one language under the source times; JSON holds all; a language the session lacks is a 400", async () => {
  const t = await startTestApp({ env: ROOMY });
  try {
    const r = await mint(t, { translations: ["es", "de"] });
    const id = r.sessionId;
    // Two final lines with times, as the sideband would record them.
    for (
      const [i, [start, end, text]] of [[1000, 2500, "Good morning."], [5000, 6500, "Thank you."]]
        .entries()
    ) {
      const item = `item_${i}`;
      await t.store.recordEvent(id, {
        type: "input_audio_buffer.committed",
        event_id: `ev_c${i}`,
        item_id: item,
        previous_item_id: i ? "item_0" : null,
      });
      await t.store.mergeBrowserUtterances(id, [{
        itemId: item,
        previousItemId: i ? "item_0" : null,
        text: String(text),
        startMs: Number(start),
        endMs: Number(end),
        confidence: null,
      }]);
    }
    const deltas = [
      { eventId: "e1", language: "es", text: "Buenos", elapsedMs: 2200 },
      { eventId: "e2", language: "es", text: " días.", elapsedMs: 3400 },
      { eventId: "e3", language: "es", text: " Gracias.", elapsedMs: 6200 },
      { eventId: "e4", language: "de", text: "Guten Morgen.", elapsedMs: 2400, itemId: "item_0" },
    ];
    assert.equal(
      (await postJson(t.baseUrl, `/api/sessions/${id}/translations`, { ticket: r.ticket, deltas }))
        .status,
      200,
    );
    const get = async (q: string) => {
      const res = await fetch(`${t.baseUrl}/api/sessions/${id}/transcript?${q}`);
      return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
    };
    assert.equal((await get("format=txt&lang=es")).body, "Buenos días.\nGracias.\n");
    assert.equal((await get("format=txt&lang=de")).body, "Guten Morgen.\n");
    assert.equal((await get("format=txt")).body, "Good morning.\nThank you.\n");
    assert.equal(
      (await get("format=srt&lang=es")).body,
      "1\n00:00:01,000 --> 00:00:02,500\nBuenos días.\n\n2\n00:00:05,000 --> 00:00:06,500\nGracias.\n",
    );
    assert.match(
      (await get("format=vtt&lang=de")).body,
      /^WEBVTT\n\n00:00:01\.000 --> 00:00:02\.500\nGuten Morgen\.\n$/,
    );
    const json = JSON.parse((await get("format=json")).body);
    assert.deepEqual(json.translations, ["es", "de"]);
    assert.deepEqual(json.utterances.map((u: { translations: unknown }) => u.translations), [
      { es: "Buenos días.", de: "Guten Morgen." },
      { es: "Gracias." },
    ]);
    for (const q of ["format=txt&lang=fr", "format=json&lang=it"]) {
      const res = await get(q);
      assert.equal(res.status, 400);
      assert.equal(JSON.parse(res.body).error.code, "invalid_language");
    }
    for (const q of ["format=txt&lang=ES", "format=txt&lang=spanish"]) {
      const res = await get(q);
      assert.equal(res.status, 400);
      assert.equal(JSON.parse(res.body).error.code, "invalid_request");
    }
    // A session without translations has no language to export.
    const plain = await mint(t, {});
    const res = await fetch(`${t.baseUrl}/api/sessions/${plain.sessionId}/transcript?lang=es`);
    assert.equal(res.status, 400);
    await res.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("the SSE stream carries translation deltas after `translationsAfter`", async () => {
  const t = await startTestApp();
  try {
    const r = await mint(t, { translations: ["es"] });
    await postJson(t.baseUrl, `/api/sessions/${r.sessionId}/translations`, {
      ticket: r.ticket,
      deltas: [delta(1), delta(2)],
    });
    const seqs = (await t.store.listTranslationDeltas(r.sessionId)).map((d) => d.seq);
    // An ended session's stream sends what it has, then `end`, and closes.
    await t.store.updateSession(r.sessionId, { status: "ended", endedAt: Date.now() });
    const res = await fetch(
      `${t.baseUrl}/api/sessions/${r.sessionId}/events?translationsAfter=${seqs[0]}`,
    );
    const { msgs } = await readSse(res, (m) => m.some((x) => x.event === "end"));
    const translation = msgs.filter((m) => m.event === "translation");
    assert.equal(translation.length, 1);
    assert.deepEqual(
      JSON.parse(translation[0].data).deltas.map((d: { eventId: string }) => d.eventId),
      ["event_es_2"],
    );
    const bad = await fetch(`${t.baseUrl}/api/sessions/${r.sessionId}/events?translationsAfter=x`);
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("caps: a session with translations holds 1 + its languages as live calls, mints and minutes", async () => {
  await insideOneWindow();
  const t = await startTestApp({
    env: { MAX_CONCURRENT_SESSIONS_PER_IP: "3", RATE_MINTS_PER_MINUTE_PER_IP: "100" },
  });
  try {
    // Four calls never fit under a cap of three.
    const four = await postJson(t.baseUrl, "/api/session", { translations: ["es", "de", "fr"] });
    assert.equal(four.status, 429);
    assert.equal(four.json.error.code, "too_many_sessions");
    // Three do, and then nothing more.
    const three = await mint(t, { translations: ["es", "de"] });
    const more = await postJson(t.baseUrl, "/api/session", {});
    assert.equal(more.status, 429);
    assert.equal(more.json.error.code, "too_many_sessions");
    // Minutes are charged once per call.
    const started = Date.now() - 10_000;
    await t.store.updateSession(three.sessionId, { status: "live", startedAt: started });
    assert.equal(
      await chargeSessionUsage(t.store, { sessionId: three.sessionId, startedAt: started }),
      true,
    );
    const used = await t.store.readCounter("usage-seconds:*", DAY_MS);
    assert.ok(used >= 30 && used <= 33, `charged ${used} s for 3 calls of 10 s`);
  } finally {
    await t.close();
  }
  await insideOneWindow();
  const rate = await startTestApp({ env: { RATE_MINTS_PER_MINUTE_PER_IP: "3" } });
  try {
    await mint(rate, { translations: ["es", "de"] }); // three mints at once
    const next = await postJson(rate.baseUrl, "/api/session", {});
    assert.equal(next.status, 429);
    assert.equal(next.json.error.code, "rate_limited");
  } finally {
    await rate.close();
  }
});

Deno.test("caps: the atomic admission weighs translations on the global cap and on continuations", async () => {
  await insideOneWindow();
  const t = await startTestApp({ env: { ...ROOMY, MAX_CONCURRENT_SESSIONS: "4" } });
  try {
    // Four calls of everyone's four: the row the admission inserts carries its weight.
    const first = await mint(t, { translations: ["es", "de", "fr"] });
    const more = await postJson(t.baseUrl, "/api/session", {});
    assert.equal(more.status, 429);
    assert.equal(more.json.error.code, "too_many_sessions");
    assert.equal(await countSessions(t.store), 1, "a refused mint writes no row");
    // Once it ended it holds nothing; continuing it takes all four calls back.
    await t.store.updateSession(first.sessionId, {
      callId: "rtc_translated1",
      status: "ended",
      startedAt: Date.now() - 5_000,
      endedAt: Date.now(),
    });
    const other = await mint(t, {});
    const refused = await postJson(t.baseUrl, `/api/session/${first.sessionId}/continue`, {
      ticket: first.ticket,
    });
    assert.equal(refused.status, 429, JSON.stringify(refused.json));
    assert.equal(refused.json.error.code, "too_many_sessions");
    assert.equal((await t.store.getSession(first.sessionId))?.status, "ended", "not released");
    await t.store.updateSession(other.sessionId, { status: "ended", endedAt: Date.now() });
    const resumed = await postJson(t.baseUrl, `/api/session/${first.sessionId}/continue`, {
      ticket: first.ticket,
    });
    assert.equal(resumed.status, 200, JSON.stringify(resumed.json));
  } finally {
    await t.close();
  }
});

// Last: the werift peer keeps timers past close() that would trip later tests' sanitizers.
Deno.test("SIGNALING=relay: no translation keys; POST /api/calls/translation relays each offer", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const t = await startTestApp({ env: { SIGNALING: "relay" } });
  const peer = await createTestPeer();
  try {
    const r = await mint(t, { translations: ["es"] });
    assert.deepEqual(r.translations, [{
      language: "es",
      name: "Spanish",
      ephemeralKey: null,
      url: null,
      relayUrl: "/api/calls/translation?lang=es",
      expiresAt: null,
    }]);
    const translationCalls = () =>
      t.emulator.control.calls().filter((c) => c.api === "translation").length;
    const bad: Array<[string, unknown, number, string]> = [
      ["", { ticket: r.ticket, sdp: peer.offer }, 400, "invalid_request"],
      ["?lang=nl", { ticket: r.ticket, sdp: peer.offer }, 400, "invalid_request"],
      ["?lang=de", { ticket: r.ticket, sdp: peer.offer }, 400, "invalid_language"],
      ["?lang=es", { ticket: "nope", sdp: peer.offer }, 401, "invalid_ticket"],
      ["?lang=es", { ticket: r.ticket, sdp: "not sdp at all" }, 400, "invalid_request"],
      ["?lang=es", { ticket: r.ticket, sdp: peer.offer, model: "x" }, 400, "invalid_request"],
      ["?lang=es", "{", 400, "invalid_json"],
    ];
    for (const [query, body, status, code] of bad) {
      const res = await postJson(t.baseUrl, `/api/calls/translation${query}`, body);
      assert.equal(res.status, status, `${query} ${JSON.stringify(body)}`);
      assert.equal(res.json.error.code, code, JSON.stringify(res.json));
      assert.equal(translationCalls(), 0);
    }
    const ok = await postJson(t.baseUrl, "/api/calls/translation?lang=es", {
      ticket: r.ticket,
      sdp: peer.offer,
    });
    assert.equal(ok.status, 201, JSON.stringify(ok.json));
    assert.match(ok.json.sdp, /^v=0/);
    assert.match(ok.json.callId, /^rtc_/);
    assert.equal(ok.json.language, "es");
    const call = t.emulator.control.calls().find((c) => c.id === ok.json.callId);
    assert.equal(call?.api, "translation");
    assert.match(JSON.stringify(call?.session), /"language":"es"/);
  } finally {
    await peer.close();
    await t.close();
  }
});

Deno.test("POST /api/calls/translation refuses SDP-shaped junk before minting or counting a call", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const t = await startTestApp();
  const peer = await createTestPeer();
  try {
    const r = await mint(t, { translations: ["es"] });
    const secrets = () =>
      (t.emulator.control.state as unknown as { secrets: Map<string, unknown> }).secrets.size;
    const minted = secrets();
    // Each starts with `v=` but is no offer: OpenAI would refuse it (a 502) after a key was minted.
    const junk = [
      "v=0\r\n" + "a=x\r\n".repeat(10),
      "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",
      "v=junk, no offer here",
    ];
    // More attempts than a language may start calls: none of them may count as one.
    for (let i = 0; i <= MAX_TRANSLATION_CALLS_PER_LANGUAGE; i++) {
      const sdp = junk[i % junk.length];
      const res = await postJson(t.baseUrl, "/api/calls/translation?lang=es", {
        ticket: r.ticket,
        sdp,
      });
      assert.equal(res.status, 400, JSON.stringify(res.json));
      assert.equal(res.json.error.code, "invalid_request");
      assert.match(res.json.error.message, /sdp/i);
    }
    assert.equal(secrets(), minted, "no translation key was minted for junk");
    assert.equal(t.emulator.control.calls().length, 0);
    const ok = await postJson(t.baseUrl, "/api/calls/translation?lang=es", {
      ticket: r.ticket,
      sdp: peer.offer,
    });
    assert.equal(ok.status, 201, JSON.stringify(ok.json));
  } finally {
    await peer.close();
    await t.close();
  }
});
