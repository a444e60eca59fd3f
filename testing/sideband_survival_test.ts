/**
 * End to end: one call whose sideband is rotated before a (tiny) platform
 * request limit and dropped by the emulator many times, while utterances keep coming. The app
 * runs as production wires it (`assembleDeps`: `withRetries`, `reconnectingConnect`), over real HTTP, real WebSockets and a real SQLite store. Every utterance must
 * be in the store exactly once, in order, and the session must stay live until the hang-up.
 */
import assert from "node:assert/strict";
import { createApp } from "../app.ts";
import { assembleDeps } from "../lib/setup.ts";
import { startEmulator } from "../emulator/mod.ts";
import { appendAudio, EventSocket, silence, tone, wsUrl } from "../emulator/testkit.ts";
import { loadConfig } from "../lib/config.ts";
import { createFileReader } from "../lib/files.ts";
import { SidebandRegistry } from "../lib/sideband_registry.ts";
import { openStore } from "../lib/store/mod.ts";
import { createTestPeer, type LogLine, postJson, waitFor } from "./server.ts";

const COMPLETED = "conversation.item.input_audio_transcription.completed";
const UTTERANCES = 12;

Deno.test({
  name:
    "sideband survival: rotated before the request limit and dropped repeatedly, no utterance is lost",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const emulator = await startEmulator({
      firstDeltaDelayMs: 10,
      completedDelayMs: 30,
      sessionUpdatedDelayMs: 0,
    });
    const config = await loadConfig({
      OPENAI_API_KEY: emulator.apiKey,
      OPENAI_BASE_URL: emulator.baseUrl,
      SIGNING_SECRET: "test-signing-secret-0123456789",
      INTERNAL_SECRET: "test-internal-secret-0123456789",
      // The test speaks into the call itself: a model whose turns the server VAD ends.
      TRANSCRIPTION_MODEL: "gpt-transcribe",
    }, { platform: "local" });
    // Below the environment's 5 s minimum on purpose: rotate every 1.5 s (rotationDelayMs(2)).
    config.platformRequestLimitSeconds = 2;
    const store = await openStore(config, { url: ":memory:" });
    const logs: LogLine[] = [];
    const log = (
      level: LogLine["level"],
      message: string,
      fields?: Record<string, unknown>,
    ) => void logs.push({ level, message, fields });
    const sidebands = new SidebandRegistry();
    // The production wiring: assembleDeps retries upstream calls and reconnects sidebands.
    const deps = assembleDeps({
      config,
      store,
      readFile: createFileReader({ platform: "local" }),
      log,
      sidebands,
    });
    const app = createApp(deps);
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
    deps.ownOrigin.listening(server.addr);
    const base = `http://127.0.0.1:${server.addr.port}`;
    const peer = await createTestPeer();
    try {
      const minted = await postJson(base, "/api/session", {});
      assert.equal(minted.status, 200, JSON.stringify(minted.json));
      const { sessionId, ticket } = minted.json;
      const relay = await postJson(base, "/api/calls", {
        ticket,
        sdp: peer.offer,
      });
      assert.equal(relay.status, 201, JSON.stringify(relay.json));
      const callId: string = relay.json.callId;
      await peer.answer(relay.json.sdp);
      const attached = () =>
        (emulator.control.calls().find((c) => c.id === callId) as
          | { sidebands: string[] }
          | undefined)?.sidebands.length ?? 0;
      await waitFor(async () => (await store.getSession(sessionId))?.status === "live", {
        message: "session live",
      });

      const texts: string[] = [];
      let drops = 0;
      for (let i = 1; i <= UTTERANCES; i++) {
        const text = `utterance ${i} of ${UTTERANCES}`;
        texts.push(text);
        emulator.control.queueTranscripts([text], callId);
        const speaker = new EventSocket(wsUrl(emulator, `call_id=${callId}`), {
          headers: { Authorization: `Bearer ${emulator.apiKey}` },
        });
        await speaker.opened;
        appendAudio(speaker, tone(400));
        appendAudio(speaker, silence(600));
        await speaker.waitFor(COMPLETED, (e) => e.transcript === text);
        await speaker.close();
        await waitFor(
          async () =>
            (await store.listUtterances(sessionId)).some((u) =>
              u.text === text && u.status === "final"
            ),
          { message: `"${text}" recorded` },
        );
        if (i % 3 === 0) {
          // A network drop of every sideband of the call (code 1011).
          const res = await fetch(`${emulator.baseUrl}/_emulator/faults`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ dropSidebands: callId }),
          });
          const body = await res.json();
          if (body.droppedSidebands > 0) drops++;
          await waitFor(() => attached() >= 1, { message: "sideband back" });
        }
        await new Promise((r) => setTimeout(r, 350));
      }

      const rotations = logs.filter((l) =>
        l.message === "Rotating the sideband before the request limit"
      ).length;
      assert.ok(rotations >= 3, `only ${rotations} rotations`);
      assert.ok(drops >= 3, `only ${drops} drops`);
      const reconnects = logs.filter((l) => l.message === "Sideband reconnected").length;
      assert.ok(reconnects >= 1, "no reconnect after a drop");

      // Every utterance once, in spoken order, seen by the server itself.
      const utterances = await store.listUtterances(sessionId);
      assert.deepEqual(utterances.map((u) => u.text), texts);
      assert.ok(utterances.every((u) => u.status === "final" && u.seenBy === "server"));
      const completed = (await store.listEvents(sessionId, { limit: 10_000 }))
        .filter((e) => e.type === COMPLETED);
      assert.equal(completed.length, UTTERANCES, "a duplicated or missing event");
      assert.equal((await store.getSession(sessionId))?.status, "live");

      // Stop: the hang-up ends the session (a normal close is never reconnected).
      const hung = await postJson(base, `/api/calls/${callId}/hangup`, { ticket });
      assert.equal(hung.status, 200, JSON.stringify(hung.json));
      await waitFor(async () => (await store.getSession(sessionId))?.status === "ended", {
        message: "session ended",
        timeoutMs: 10_000,
      });
      assert.equal((await store.getSession(sessionId))?.endReason, "hangup");
      assert.ok(!logs.some((l) => JSON.stringify(l).includes(emulator.apiKey)));
    } finally {
      await sidebands.shutdown();
      await peer.close();
      await server.shutdown();
      await emulator.close();
      await store.close();
    }
  },
});
