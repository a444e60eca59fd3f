import assert from "node:assert/strict";
import { loadConfig } from "./config.ts";
import { openStore } from "./store/mod.ts";
import { gracefulShutdown, installShutdownHandler, SHUTDOWN_END_REASON } from "./shutdown.ts";
import { createTestPeer, postJson, waitFor } from "../testing/server.ts";
import { openSpeaker, startResilientApp } from "../testing/resilience_kit.ts";

const T = { sanitizeResources: false, sanitizeOps: false };

/** Reads an SSE response until it ends; resolves with the event names seen. */
async function readSse(res: Response): Promise<string[]> {
  const names: string[] = [];
  const decoder = new TextDecoder();
  let text = "";
  try {
    for await (const chunk of res.body!) {
      text += decoder.decode(chunk, { stream: true });
    }
  } catch { /* the server went away */ }
  for (const line of text.split("\n")) {
    if (line.startsWith("event: ")) names.push(line.slice(7).trim());
  }
  return names;
}

Deno.test({
  ...T,
  name:
    "gracefulShutdown() flushes the sideband, ends its session, lets viewers finish, then closes the store",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "shutdown_unit_" });
    const url = `file:${dir}/app.db`;
    const app = await startResilientApp({ databaseUrl: url });
    const peer = await createTestPeer();
    try {
      const { sessionId, ticket } = (await postJson(app.baseUrl, "/api/session", {})).json;
      const relay = await postJson(app.baseUrl, "/api/calls", { ticket, sdp: peer.offer });
      await peer.answer(relay.json.sdp);
      const callId: string = relay.json.callId;
      await waitFor(async () => (await app.store.getSession(sessionId))?.status === "live");
      const speaker = await openSpeaker(app.emulator, callId);
      await speaker.say("recorded before the shutdown");
      await speaker.close();
      await waitFor(async () =>
        (await app.store.listUtterances(sessionId)).some((u) => u.status === "final")
      );
      const events = (await app.store.listEvents(sessionId, { limit: 1000 })).length;
      // A viewer tails the live session's events: its stream ends when the session does.
      const viewer = await fetch(`${app.baseUrl}/api/sessions/${sessionId}/events`);
      assert.equal(viewer.status, 200);
      const seen = readSse(viewer);
      // A second session that never gets a call: its viewer would stream until its own limit.
      const idle = (await postJson(app.baseUrl, "/api/session", {})).json;
      const idleViewer = await fetch(`${app.baseUrl}/api/sessions/${idle.sessionId}/events`);
      const idleSeen = readSse(idleViewer);

      const logs: string[] = [];
      const report = await gracefulShutdown({
        sidebands: app.sidebands,
        store: app.store,
        server: app.server,
        serverGraceMs: 500,
        log: (_level, message) => logs.push(message),
      });
      assert.equal(report.sidebands, 1);
      assert.equal(report.sessionsEnded, 1);
      assert.equal(report.serverDrained, false, "the idle viewer held the server");
      assert.ok((await seen).includes("end"), "the live session's viewer saw its end");
      await idleSeen;
      assert.deepEqual(logs.slice(0, 1), ["Shutting down"]);

      // The call itself goes on at OpenAI; the store file has everything.
      const call = app.emulator.control.calls().find((c) => c.id === callId) as { state: string };
      assert.equal(call.state, "active");
      const config = await loadConfig({}, { platform: "local" });
      const store = await openStore(config, { url });
      try {
        const row = await store.getSession(sessionId);
        assert.equal(row?.status, "ended");
        assert.equal(row?.endReason, SHUTDOWN_END_REASON);
        assert.ok((await store.listEvents(sessionId, { limit: 1000 })).length >= events);
        const texts = (await store.listUtterances(sessionId)).map((u) => u.text);
        assert.deepEqual(texts, ["recorded before the shutdown"]);
        assert.equal((await store.getSession(idle.sessionId))?.status, "pending");
      } finally {
        await store.close();
      }
    } finally {
      await peer.close();
      await app.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  ...T,
  name: "installShutdownHandler() runs once and exits 0; a failing step exits 1",
  fn: async () => {
    const app = await startResilientApp();
    try {
      const codes: number[] = [];
      const handler = installShutdownHandler({
        sidebands: app.sidebands,
        store: app.store,
        server: app.server,
        signals: [],
        exit: (code) => codes.push(code),
      });
      await Promise.all([handler.shutdown(), handler.shutdown()]);
      assert.deepEqual(codes, [0]);
      handler.remove();

      const failing = installShutdownHandler({
        sidebands: app.sidebands,
        store: {
          ...app.store,
          close: () => Promise.reject(new Error("disk gone")),
        },
        signals: [],
        exit: (code) => codes.push(code),
        log: () => {},
      });
      await failing.shutdown();
      assert.deepEqual(codes, [0, 1]);
    } finally {
      await app.close();
    }
  },
});
