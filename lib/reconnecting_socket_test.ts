import assert from "node:assert/strict";
import { appendAudio, EventSocket, silence, tone, wsUrl } from "../emulator/testkit.ts";
import { loadConfig } from "./config.ts";
import { resolveSessionOptions } from "./session_config.ts";
import { runSideband } from "./sideband.ts";
import { denoConnectWebSocket } from "./reconnecting_socket.ts";
import { type ReconnectInfo, reconnectingConnect } from "./reconnecting_socket.ts";
import { waitFor } from "../testing/server.ts";
import { openLiveCall } from "../testing/live_call.ts";

const T = { sanitizeResources: false, sanitizeOps: false };
const COMPLETED = "conversation.item.input_audio_transcription.completed";

/** Emulator + store + a live WebRTC call (werift peer) + a reconnecting connector. */
async function setup(attempts = 6, stableMs = 0) {
  const live = await openLiveCall({ emulator: { sessionUpdatedDelayMs: 0 } });
  const { emulator, config, store, upstream, settings, callId, sessionId } = live;
  const reconnects: ReconnectInfo[] = [];
  const connectWebSocket = reconnectingConnect({
    connect: denoConnectWebSocket,
    attempts,
    stableMs,
    baseDelayMs: 20,
    maxDelayMs: 100,
    onReconnect: (info) => reconnects.push(info),
  });
  const run = () =>
    runSideband({
      config,
      store,
      upstream,
      settings,
      sessionId,
      callId,
      connectWebSocket,
    });
  return {
    emulator,
    store,
    upstream,
    callId,
    sessionId,
    reconnects,
    run,
    /** Speaks one utterance on a short-lived second connection; resolves on its `completed`. */
    async speak(text: string) {
      emulator.control.queueTranscripts([text], callId);
      const speaker = new EventSocket(
        wsUrl(emulator, `call_id=${callId}`),
        { headers: { Authorization: `Bearer ${emulator.apiKey}` } },
      );
      try {
        await speaker.opened;
        appendAudio(speaker, tone(500));
        appendAudio(speaker, silence(700));
        await speaker.waitFor(COMPLETED, (e) => e.transcript === text);
      } finally {
        await speaker.close();
      }
    },
    /** Closes the call's sidebands now (code 1011), as a network drop would. */
    async drop() {
      const res = await fetch(`${emulator.baseUrl}/_emulator/faults`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ dropSidebands: callId }),
      });
      const body = await res.json();
      assert.ok(body.droppedSidebands >= 1, JSON.stringify(body));
    },
    async finals() {
      return (await store.listUtterances(sessionId))
        .filter((u) => u.status === "final").map((u) => u.text);
    },
    close: live.close,
  };
}

Deno.test({
  ...T,
  name:
    "reconnectingConnect(): dropped sidebands reconnect and keep recording into the same session",
  fn: async () => {
    const s = await setup();
    try {
      const done = s.run();
      await waitFor(async () => (await s.store.getSession(s.sessionId))?.status === "live");
      const texts: string[] = [];
      for (let i = 1; i <= 4; i++) {
        const text = `utterance number ${i}`;
        texts.push(text);
        await s.speak(text);
        await waitFor(async () => (await s.finals()).includes(text), {
          message: `"${text}" recorded`,
        });
        await s.drop();
        await waitFor(() => s.reconnects.length === i, {
          message: `reconnect ${i}`,
        });
      }
      assert.deepEqual(await s.finals(), texts);
      assert.equal((await s.store.getSession(s.sessionId))?.status, "live");
      assert.ok(s.reconnects.every((r) => r.code === 1011 && r.attempts >= 1));

      // A hang-up closes normally (1000): no reconnect, the session ends.
      assert.equal(await s.upstream.hangup(s.callId), true);
      const result = await done;
      assert.equal(result.endReason, "hangup");
      assert.equal(s.reconnects.length, 4);
      const row = await s.store.getSession(s.sessionId);
      assert.equal(row?.status, "ended");
      assert.equal(row?.endReason, "hangup");
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  ...T,
  name: "reconnectingConnect(): refused re-attaches are retried; session_expired is final",
  fn: async () => {
    const s = await setup();
    try {
      const done = s.run();
      await waitFor(async () => (await s.store.getSession(s.sessionId))?.status === "live");
      // Two refusals (404 call_id_not_found) then the third attempt attaches.
      s.emulator.control.faults.refuseSidebandAttaches = 2;
      await s.drop();
      await waitFor(() => s.reconnects.length === 1, { message: "reconnect" });
      assert.equal(s.reconnects[0].attempts, 3);
      await s.speak("after the refusals");
      await waitFor(async () => (await s.finals()).includes("after the refusals"));

      const res = await fetch(`${s.emulator.baseUrl}/_emulator/faults`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ expireSessions: s.callId }),
      });
      assert.equal(res.status, 200);
      await res.body?.cancel();
      const result = await done;
      assert.equal(result.endReason, "session_expired");
      assert.equal(s.reconnects.length, 1);
      const row = await s.store.getSession(s.sessionId);
      assert.equal(row?.status, "ended");
      assert.equal(row?.endReason, "session_expired");
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  ...T,
  name: "reconnectingConnect(): gives up after `attempts` failed attaches and the run ends",
  fn: async () => {
    const s = await setup(3);
    try {
      const done = s.run();
      await waitFor(async () => (await s.store.getSession(s.sessionId))?.status === "live");
      s.emulator.control.faults.refuseSidebandAttaches = 100;
      await s.drop();
      const result = await done;
      assert.equal(result.callEnded, true);
      assert.equal(s.reconnects.length, 0);
      // Exactly three attaches were refused before giving up.
      assert.equal(s.emulator.control.faults.refuseSidebandAttaches, 97);
      assert.equal((await s.store.getSession(s.sessionId))?.status, "ended");
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  ...T,
  name: "reconnectingConnect(): a connector that throws is retried, then reported as a failed run",
  fn: async () => {
    const s = await setup();
    try {
      let calls = 0;
      const connectWebSocket = reconnectingConnect({
        connect: () => {
          calls++;
          throw new Error("no sockets today");
        },
        attempts: 2,
        baseDelayMs: 5,
      });
      const config = await loadConfig({
        OPENAI_API_KEY: s.emulator.apiKey,
        OPENAI_BASE_URL: s.emulator.baseUrl,
      }, { platform: "local" });
      const result = await runSideband({
        config,
        store: s.store,
        upstream: s.upstream,
        settings: resolveSessionOptions({}, { defaultModel: config.defaultModel }),
        sessionId: s.sessionId,
        callId: s.callId,
        connectWebSocket,
      });
      assert.equal(calls, 2);
      assert.match(result.endReason, /^error: sideband closed before it opened/);
      assert.equal((await s.store.getSession(s.sessionId))?.status, "failed");
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  ...T,
  name: "reconnectingConnect(): a sideband dropped right after every reconnect gives up",
  fn: async () => {
    // Every drop counts as a failure (the connection never holds for 60 s); three end the run.
    const s = await setup(3, 60_000);
    try {
      const done = s.run();
      await waitFor(async () => (await s.store.getSession(s.sessionId))?.status === "live");
      for (let i = 1; i <= 2; i++) {
        await s.drop();
        await waitFor(() => s.reconnects.length === i, { message: `reconnect ${i}` });
      }
      await s.drop();
      const result = await done;
      assert.equal(result.callEnded, true);
      assert.equal(s.reconnects.length, 2);
    } finally {
      await s.close();
    }
  },
});
