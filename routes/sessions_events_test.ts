import assert from "node:assert/strict";
import { Hono } from "npm:hono@4.13.19";
import { sessionsRoutes } from "./sessions.ts";
import { countSessions, createTestPeer, postJson, waitFor } from "../testing/server.ts";
import {
  assertError,
  events,
  getJson,
  LOCAL_CLIENT_KEY,
  OWN_COOKIE,
  readSse,
  seed,
  withApp,
} from "../testing/sessions_kit.ts";

Deno.test("SSE: a dropped stream resumes with Last-Event-ID and gets exactly the rest, live, then closes", async () => {
  await withApp(async (t, writer) => {
    const { id, count } = await seed(writer, "live", {
      type: "session.updated",
      event_id: "event_private",
      session: {
        type: "transcription",
        audio: {
          input: { transcription: { model: "m", prompt: "PRIVATE-PROMPT" } },
        },
      },
    });
    const url = `${t.baseUrl}/api/sessions/${id}/events`;
    const first = await fetch(url);
    assert.equal(first.status, 200);
    assert.match(
      first.headers.get("content-type") ?? "",
      /^text\/event-stream/,
    );
    const a = await readSse(first, (m) => m.filter((x) => x.id).length >= 4);
    const got = a.msgs.filter((m) => m.id);
    assert.deepEqual(got.map((m) => m.id), ["1", "2", "3", "4"]);
    const updated = JSON.parse(got[0].data);
    assert.equal(updated.type, "session.updated");
    assert.deepEqual(updated.session.audio.input.transcription, { model: "m" });
    assert.equal(
      JSON.parse(got[1].data).type,
      "input_audio_buffer.speech_started",
    );
    assert.equal(a.ended, false, "the stream of a live session stays open");

    // Reconnect as EventSource does; more events arrive from another store while we listen.
    const second = await fetch(url, { headers: { "Last-Event-ID": "4" } });
    const more = events("item_c", "item_b", "Third.", 4000);
    const writing = (async () => {
      await new Promise((r) => setTimeout(r, 300));
      for (const e of more) await writer.recordEvent(id, e);
      await writer.updateSession(id, { status: "ended", endedAt: Date.now() });
    })();
    const b = await readSse(second, (m) => m.some((x) => x.event === "end"));
    await writing;
    const rest = b.msgs.filter((m) => m.id);
    const all = [...a.msgs, ...b.msgs].map((m) => m.data).join("\n");
    assert.doesNotMatch(
      all,
      /PRIVATE-PROMPT/,
      "the private prompt is not streamed",
    );
    assert.match(all, /"session\.updated"/);
    const total = count + more.length;
    assert.deepEqual(
      rest.map((m) => Number(m.id)),
      Array.from({ length: total - 4 }, (_, i) => i + 5),
    );
    assert.deepEqual(
      rest.slice(-more.length).map((m) => JSON.parse(m.data).event_id),
      more.map((e) => e.event_id),
    );
    assert.equal(JSON.parse(b.msgs.at(-1)!.data).status, "ended");

    // A finished session: ?after= replays the tail and closes by itself.
    const third = await readSse(
      await fetch(`${url}?after=${total - 2}`),
      () => false,
    );
    assert.equal(third.ended, true);
    assert.deepEqual(third.msgs.filter((m) => m.id).map((m) => Number(m.id)), [
      total - 1,
      total,
    ]);

    assertError(
      await getJson(t.baseUrl, `/api/sessions/${id}/events?after=-1`),
      400,
    );
    assertError(
      await getJson(t.baseUrl, `/api/sessions/${id}/events`, {
        headers: { "Last-Event-ID": "x" },
      }),
      400,
      "invalid_last_event_id",
    );
    assertError(
      await getJson(t.baseUrl, `/api/sessions/${"C".repeat(22)}/events`),
      404,
    );
  });
});

Deno.test("DELETE /api/sessions/:id hangs a live call up, then deletes; a failed hang-up deletes nothing", async () => {
  await withApp(async (t, writer) => {
    // A real call through the emulator: mint, relay the SDP offer, sideband attaches.
    const mint = await postJson(t.baseUrl, "/api/session", {}, { Cookie: OWN_COOKIE });
    assert.equal(mint.status, 200, JSON.stringify(mint.json));
    const peer = await createTestPeer();
    try {
      const relay = await postJson(t.baseUrl, "/api/calls", {
        ticket: mint.json.ticket,
        sdp: peer.offer,
      });
      assert.equal(relay.status, 201, JSON.stringify(relay.json));
      const { sessionId } = mint.json;
      await waitFor(async () => (await t.store.getSession(sessionId))?.status === "live");

      t.emulator.control.failRest({
        endpoint: "*",
        count: 2, // a single 500 on hang-up is retried (lib/retry.ts)
        status: 500,
        body: { error: { message: "boom" } },
      });
      const failed = await getJson(t.baseUrl, `/api/sessions/${sessionId}`, {
        method: "DELETE",
      });
      assertError(failed, 502);
      assert.ok(
        await t.store.getSession(sessionId),
        "a failed hang-up deletes nothing",
      );
      const still = t.emulator.control.calls().find((c) => c.id === relay.json.callId);
      assert.equal(still?.endedReason ?? null, null, "the call is still up");

      const del = await getJson(t.baseUrl, `/api/sessions/${sessionId}`, {
        method: "DELETE",
      });
      assert.equal(del.status, 200, del.text);
      assert.deepEqual(del.json, {
        id: sessionId,
        deleted: true,
        hungUp: true,
      });
      const call = t.emulator.control.calls().find((c) => c.id === relay.json.callId);
      assert.equal(call?.endedReason, "hangup");
      // Deleting a live session still charges its minutes, to the client too, exactly once.
      const DAY = 86_400_000;
      const charged = await t.store.readCounter("usage-seconds:*", DAY);
      assert.ok(charged >= 1, `charged ${charged} s`);
      assert.equal(await t.store.readCounter(`usage-seconds:${LOCAL_CLIENT_KEY}`, DAY), charged);
      await waitFor(() => t.sidebands.list().length === 0, { message: "the sideband ended" });
      assert.equal(await t.store.readCounter("usage-seconds:*", DAY), charged, "charged once");
      assertError(await getJson(t.baseUrl, `/api/sessions/${sessionId}`), 404);
      assert.deepEqual(await t.store.listEvents(sessionId), []);
      assert.deepEqual(await t.store.listUtterances(sessionId), []);
    } finally {
      await peer.close();
    }

    const { id } = await seed(writer);
    const n = await countSessions(t.store);
    assertError(
      await getJson(t.baseUrl, "/api/sessions/bad", { method: "DELETE" }),
      400,
    );
    assertError(
      await getJson(t.baseUrl, `/api/sessions/${"D".repeat(22)}`, {
        method: "DELETE",
      }),
      404,
    );
    assert.equal(await countSessions(t.store), n);
    const ended = await getJson(t.baseUrl, `/api/sessions/${id}`, {
      method: "DELETE",
    });
    assert.deepEqual(ended.json, { id, deleted: true, hungUp: false });
    assert.equal(await countSessions(t.store), n - 1);
  });
});

Deno.test("SSE: an idle stream sends heartbeat comments and closes at its time limit for the client to resume", async () => {
  await withApp(async (t, writer) => {
    const { id } = await writer.createSession({
      source: "webrtc",
      model: "m",
      settings: {},
    });
    const app = new Hono().route(
      "/api/sessions",
      sessionsRoutes(t.deps, { pollMs: 20, heartbeatMs: 60, maxStreamMs: 400 }),
    );
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      app.fetch,
    );
    try {
      const res = await fetch(
        `http://127.0.0.1:${server.addr.port}/api/sessions/${id}/events`,
      );
      const text = await res.text(); // ends when the server closes the stream
      assert.match(text, /^event: ready/);
      assert.ok((text.match(/^: heartbeat$/gm) ?? []).length >= 2, text);
      assert.doesNotMatch(text, /event: end/, "a pending session is not ended");
    } finally {
      await server.shutdown();
    }
  });
});

Deno.test("SSE and GET: a session on two calls names each call and its offset before its events", async () => {
  await withApp(async (t, writer) => {
    const s = await writer.createSession({ source: "webrtc", model: "m", settings: {} });
    await writer.updateSession(s.id, { callId: "rtc_first", status: "live" });
    for (const e of events("item_a", null, "On one.", 1000)) {
      await writer.recordEvent(s.id, e, { callId: "rtc_first" });
    }
    // The session moves to a new call 40 ms later (routes/session/continue.ts releases it first).
    await new Promise((r) => setTimeout(r, 40));
    await writer.updateSession(s.id, { callId: null, status: "pending" });
    await writer.updateSession(s.id, { callId: "rtc_second", status: "live" });
    const [offset] = (await writer.listCalls(s.id)).slice(1).map((c) => c.offsetMs);
    assert.ok(offset >= 40, `offset ${offset}`);
    const two = events("item_b", null, "On two.", 200);
    for (const e of two) await writer.recordEvent(s.id, e, { callId: "rtc_second" });
    await writer.updateSession(s.id, { status: "ended", endedAt: Date.now() });

    const detail = await getJson(t.baseUrl, `/api/sessions/${s.id}`);
    assert.deepEqual(
      detail.json.calls.map((c: { callId: string; offsetMs: number }) => [c.callId, c.offsetMs]),
      [["rtc_first", 0], ["rtc_second", offset]],
    );
    assert.deepEqual(
      detail.json.utterances.map((u: { startMs: number }) => u.startMs),
      [1000, 200 + offset],
    );

    const url = `${t.baseUrl}/api/sessions/${s.id}/events`;
    const all = await readSse(await fetch(url), () => false);
    const calls = all.msgs.filter((m) => m.event === "call");
    assert.deepEqual(calls.map((m) => JSON.parse(m.data)), [
      { callId: "rtc_first", offsetMs: 0 },
      { callId: "rtc_second", offsetMs: offset },
    ]);
    assert.ok(calls.every((m) => m.id === undefined), "a call message does not move Last-Event-ID");
    const kinds = all.msgs.filter((m) => m.event !== "ready" && m.event !== "end")
      .map((m) => m.event === "call" ? JSON.parse(m.data).callId : JSON.parse(m.data).item_id);
    const n = two.length;
    assert.deepEqual(kinds, [
      "rtc_first",
      ...Array(n).fill("item_a"),
      "rtc_second",
      ...Array(n).fill("item_b"),
    ]);
    // A stream resumed in the middle of call 2 starts by naming call 2 again.
    const resumed = await readSse(
      await fetch(url, { headers: { "Last-Event-ID": String(n + 2) } }),
      () => false,
    );
    const first = resumed.msgs.find((m) => m.event !== "ready")!;
    assert.equal(first.event, "call");
    assert.deepEqual(JSON.parse(first.data), { callId: "rtc_second", offsetMs: offset });
  });
});
