import assert from "node:assert/strict";
import { postJson } from "../testing/server.ts";
import { createTicket } from "../lib/ticket.ts";
import {
  assertError,
  getJson,
  LOCAL_CLIENT_KEY,
  LOCAL_OWNER_KEY,
  SECRET,
  seed,
  withApp,
} from "../testing/sessions_kit.ts";

Deno.test("GET /api/sessions pages newest first and rejects bad queries with 400 JSON", async () => {
  await withApp(async (t, writer) => {
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const id = (await writer.createSession({
        source: "webrtc",
        model: "m",
        settings: {},
        clientKey: LOCAL_CLIENT_KEY,
      })).id;
      await writer.setSessionOwner(id, LOCAL_OWNER_KEY);
      ids.push(id);
      await new Promise((r) => setTimeout(r, 3));
    }
    // Another client's session (even from our address) is neither listed to us nor deletable.
    const theirs = await writer.createSession({
      source: "webrtc",
      model: "m",
      settings: {},
      clientKey: "someone-else-0000000000",
    });
    const p1 = await getJson(t.baseUrl, "/api/sessions?limit=2");
    assert.ok(!p1.text.includes(LOCAL_CLIENT_KEY) && !p1.text.includes("clientKey"));
    const one = await getJson(t.baseUrl, `/api/sessions/${ids[0]}`);
    assert.equal(one.status, 200);
    assert.ok(!one.text.includes(LOCAL_CLIENT_KEY) && !one.text.includes("clientKey"));
    assertError(
      await getJson(t.baseUrl, `/api/sessions/${theirs.id}`, { method: "DELETE" }),
      403,
      "not_owner",
    );
    assert.ok(await writer.getSession(theirs.id), "a refused delete changes nothing");
    assert.equal(p1.status, 200);
    assert.deepEqual(p1.json.sessions.map((s: { id: string }) => s.id), [
      ids[2],
      ids[1],
    ]);
    const p2 = await getJson(
      t.baseUrl,
      `/api/sessions?limit=2&cursor=${p1.json.nextCursor}`,
    );
    assert.deepEqual(p2.json.sessions.map((s: { id: string }) => s.id), [
      ids[0],
    ]);
    assert.equal(p2.json.nextCursor, null);
    assert.ok(!p2.text.includes(theirs.id), "another client's session is not listed");
    for (
      const q of [
        "limit=0",
        "limit=101",
        "limit=abc",
        "cursor=%3Cx%3E",
        "foo=1",
      ]
    ) {
      assertError(
        await getJson(t.baseUrl, `/api/sessions?${q}`),
        400,
        "invalid_request",
      );
    }
  });
});

Deno.test("GET /api/sessions/:id returns the session and ordered utterances; bad ids are 400, unknown 404", async () => {
  await withApp(async (t, writer) => {
    const { id, count } = await seed(writer);
    const r = await getJson(t.baseUrl, `/api/sessions/${id}`);
    assert.equal(r.status, 200);
    assert.equal(r.json.session.id, id);
    assert.equal(r.json.session.status, "ended");
    assert.equal(r.json.lastSeq, count);
    assert.equal(r.json.shareUrl, `/s/${id}`);
    assert.deepEqual(r.json.utterances.map((u: { text: string }) => u.text), [
      "Hello world.",
      "Second line.",
    ]);
    assertError(
      await getJson(t.baseUrl, "/api/sessions/short"),
      400,
      "invalid_session_id",
    );
    assertError(
      await getJson(t.baseUrl, "/api/sessions/" + "x".repeat(22) + "%20"),
      400,
    );
    assertError(
      await getJson(t.baseUrl, "/api/sessions/" + "A".repeat(22)),
      404,
      "session_not_found",
    );
  });
});

Deno.test("GET /api/sessions/:id/transcript renders txt, srt, vtt and json; a bad format is 400", async () => {
  await withApp(async (t, writer) => {
    const { id } = await seed(writer);
    const txt = await getJson(
      t.baseUrl,
      `/api/sessions/${id}/transcript?format=txt`,
    );
    assert.equal(txt.status, 200);
    assert.match(txt.type, /^text\/plain/);
    assert.match(txt.text, /Hello world\.[\s\S]*Second line\./);
    const srt = await getJson(
      t.baseUrl,
      `/api/sessions/${id}/transcript?format=srt`,
    );
    assert.match(
      srt.text,
      /^1\r?\n00:00:00,000 --> 00:00:01,500\r?\nHello world\./,
    );
    const vtt = await getJson(
      t.baseUrl,
      `/api/sessions/${id}/transcript?format=vtt`,
    );
    assert.match(vtt.type, /^text\/vtt/);
    assert.match(vtt.text, /^WEBVTT/);
    assert.match(vtt.text, /00:00:02\.000 --> 00:00:03\.500\s+Second line\./);
    const json = await getJson(
      t.baseUrl,
      `/api/sessions/${id}/transcript?format=json&download=1`,
    );
    assert.deepEqual(
      json.json.utterances.map((u: { text: string }) => u.text),
      [
        "Hello world.",
        "Second line.",
      ],
    );
    assert.equal(json.json.sessionId, id);
    assertError(
      await getJson(t.baseUrl, `/api/sessions/${id}/transcript?format=doc`),
      400,
    );
    assertError(
      await getJson(t.baseUrl, `/api/sessions/${"B".repeat(22)}/transcript`),
      404,
    );
  });
});

Deno.test("POST /api/sessions/:id/utterances merges with a valid ticket; every bad input is 4xx and changes nothing", async () => {
  await withApp(async (t, writer) => {
    const { id } = await seed(writer);
    const other = (await writer.createSession({
      source: "webrtc",
      model: "m",
      settings: {},
    })).id;
    const ticket = await createTicket(id, { secret: SECRET, ttlSeconds: 60 });
    const utterances = [
      {
        itemId: "item_a",
        previousItemId: null,
        status: "final",
        text: "Hello world.",
        startMs: 0,
        endMs: 1500,
      },
      {
        itemId: "item_z",
        previousItemId: "item_b",
        status: "final",
        text: "Only the page saw this.",
      },
      {
        itemId: "item_p",
        previousItemId: "item_z",
        status: "partial",
        text: "half",
      },
    ];
    const path = `/api/sessions/${id}/utterances`;
    const before = JSON.stringify(await writer.listUtterances(id));
    const bad: [unknown, number, string][] = [
      ["{not json", 400, "invalid_json"],
      [{ utterances }, 400, "invalid_request"],
      [
        { ticket, utterances: [{ itemId: "bad id!", text: "x" }] },
        400,
        "invalid_request",
      ],
      [
        { ticket, utterances: [{ itemId: "i", text: 5 }] },
        400,
        "invalid_request",
      ],
      [{ ticket: "forged.ticket", utterances }, 401, "invalid_ticket"],
      [
        {
          ticket: await createTicket(other, { secret: SECRET, ttlSeconds: 60 }),
          utterances,
        },
        403,
        "ticket_mismatch",
      ],
      [
        {
          ticket: await createTicket(id, {
            secret: "another-secret-0123456789",
            ttlSeconds: 60,
          }),
          utterances,
        },
        401,
        "invalid_ticket",
      ],
    ];
    for (const [body, status, code] of bad) {
      assertError(await postJson(t.baseUrl, path, body), status, code);
    }
    assertError(
      await postJson(t.baseUrl, "/api/sessions/nope/utterances", {
        ticket,
        utterances,
      }),
      400,
    );
    assert.equal(
      JSON.stringify(await writer.listUtterances(id)),
      before,
      "nothing changed",
    );

    const ok = await postJson(t.baseUrl, path, { ticket, utterances });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json, { added: 1, confirmed: 1 });
    const after = await writer.listUtterances(id);
    assert.deepEqual(after.map((u) => [u.itemId, u.seenBy]), [
      ["item_a", "both"],
      ["item_b", "server"],
      ["item_z", "browser"],
    ]);
  });
});

Deno.test("GET /s/:id serves the viewer page; unknown ids get the same page with 404", async () => {
  await withApp(async (t, writer) => {
    const { id } = await seed(writer);
    const ok = await fetch(`${t.baseUrl}/s/${id}`);
    assert.equal(ok.status, 200);
    const html = await ok.text();
    assert.match(
      html,
      /<script type="module" src="\/frontend\/viewer.js"><\/script>/,
    );
    assert.doesNotMatch(html, /<script>(?!<)/, "no inline script");
    const missing = await fetch(`${t.baseUrl}/s/${"E".repeat(22)}`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const js = await fetch(`${t.baseUrl}/frontend/viewer.js`);
    assert.equal(js.status, 200);
    assert.doesNotMatch(
      await js.text(),
      /innerHTML|insertAdjacentHTML|document\.write/,
    );
  });
});
