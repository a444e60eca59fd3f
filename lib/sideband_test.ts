import assert from "node:assert/strict";
import { appendAudio, EventSocket, silence, tone, wsUrl } from "../emulator/testkit.ts";
import { loadConfig } from "./config.ts";
import { openStore } from "./store/mod.ts";
import { resolveSessionOptions } from "./session_config.ts";
import { runSideband } from "./sideband.ts";
import { SidebandRegistry } from "./sideband_registry.ts";
import { createUpstream } from "./upstream.ts";
import { waitFor } from "../testing/server.ts";
import { openLiveCall } from "../testing/live_call.ts";

const T = { sanitizeResources: false, sanitizeOps: false };

/** Emulator + store + a live WebRTC call created by a werift peer. */
function setup(env: Record<string, string> = {}) {
  return openLiveCall({ env, session: { language: "en" } });
}

// First in the file: the live-call tests below leave werift timers running past close(), which
// would fire inside this one's leak check.
Deno.test("runSideband() resolves with an error when the socket cannot even be created", async () => {
  const config = await loadConfig({ OPENAI_API_KEY: "sk-x" }, {
    platform: "local",
  });
  const store = await openStore(config, { url: ":memory:" });
  try {
    const settings = resolveSessionOptions({}, {
      defaultModel: config.defaultModel,
    });
    const row = await store.createSession({
      source: "webrtc",
      model: settings.model,
      settings: settings as unknown as Record<string, unknown>,
    });
    const result = await runSideband({
      config,
      store,
      upstream: createUpstream({
        baseUrl: config.openaiBaseUrl,
        apiKey: "sk-x",
      }),
      settings,
      sessionId: row.id,
      callId: "rtc_abc",
      connectWebSocket: () => {
        throw new Error("no sockets here");
      },
    });
    assert.match(
      result.endReason,
      /^error: cannot open the sideband: no sockets here/,
    );
    assert.equal((await store.getSession(row.id))?.status, "failed");
  } finally {
    await store.close();
  }
});

Deno.test({
  ...T,
  name: "runSideband() pushes the private prompt, records events, and ends on hang-up",
  fn: async () => {
    const s = await setup({ TRANSCRIPTION_PROMPT: "Vocabulary: Zorblax" });
    try {
      const done = runSideband({
        ...s,
        sessionId: s.sessionId,
        callId: s.callId,
      });
      await waitFor(async () => (await s.store.getSession(s.sessionId))?.status === "live");
      // The emulator's effective session now carries the private prompt.
      await waitFor(() => {
        const call = s.emulator.control.calls()[0] as {
          session: {
            audio: { input: { transcription: { prompt: string | null } } };
          };
        };
        return call.session.audio.input.transcription.prompt?.includes(
          "Zorblax",
        );
      }, { message: "private prompt applied" });
      // Speak on a second connection to the same call; the app's sideband records the result.
      s.emulator.control.queueTranscripts(["hello from the sideband"]);
      const speaker = new EventSocket(
        wsUrl(s.emulator, `call_id=${s.callId}`),
        {
          headers: { Authorization: `Bearer ${s.emulator.apiKey}` },
        },
      );
      await speaker.opened;
      appendAudio(speaker, silence(300));
      appendAudio(speaker, tone(800));
      appendAudio(speaker, silence(1200));
      await waitFor(async () => {
        const u = await s.store.listUtterances(s.sessionId);
        return u.some((x) => x.status === "final" && x.text === "hello from the sideband");
      }, { message: "final utterance recorded" });
      // session.updated answers the sideband's update (after ~260 ms, like the real API).
      const types = await waitFor(async () => {
        const t = (await s.store.listEvents(s.sessionId)).map((e) => e.type);
        return t.includes("session.updated") ? t : null;
      }, { message: "session.updated recorded" });
      assert.ok(
        types.includes("conversation.item.input_audio_transcription.completed"),
      );
      await speaker.close();

      assert.equal(await s.upstream.hangup(s.callId), true);
      const result = await done;
      assert.equal(result.endReason, "hangup");
      assert.equal(result.callEnded, true);
      const row = await s.store.getSession(s.sessionId);
      assert.equal(row?.status, "ended");
      assert.equal(row?.endReason, "hangup");
      assert.ok(row?.endedAt);
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  ...T,
  name: "runSideband() hangs up at the maximum duration (endReason max_duration)",
  fn: async () => {
    const s = await setup();
    try {
      const result = await runSideband({
        ...s,
        sessionId: s.sessionId,
        callId: s.callId,
        maxSessionSeconds: 0.3,
      });
      assert.equal(result.endReason, "max_duration");
      assert.equal(
        (await s.store.getSession(s.sessionId))?.endReason,
        "max_duration",
      );
      const call = s.emulator.control.calls()[0] as { state: string };
      assert.equal(call.state, "ended");
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  ...T,
  name: "an aborted sideband leaves the call running; the registry runs one per call",
  fn: async () => {
    const s = await setup();
    try {
      const registry = new SidebandRegistry();
      const run = registry.start({
        ...s,
        sessionId: s.sessionId,
        callId: s.callId,
      });
      assert.equal(
        registry.start({ ...s, sessionId: s.sessionId, callId: s.callId }),
        run,
      );
      await waitFor(async () => (await s.store.getSession(s.sessionId))?.status === "live");
      await registry.shutdown();
      const result = await run.done;
      assert.equal(result.endReason, "aborted");
      assert.equal(result.callEnded, false);
      assert.equal((await s.store.getSession(s.sessionId))?.status, "live");
      assert.equal(
        (s.emulator.control.calls()[0] as { state: string }).state,
        "active",
      );
      assert.equal(registry.list().length, 0);
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  ...T,
  name: "a sideband the API refuses marks the session failed",
  fn: async () => {
    const s = await setup();
    try {
      s.emulator.control.faults.refuseSidebandAttaches = 1;
      const result = await runSideband({
        ...s,
        sessionId: s.sessionId,
        callId: s.callId,
      });
      assert.match(result.endReason, /^error: /);
      const row = await s.store.getSession(s.sessionId);
      assert.equal(row?.status, "failed");
      const bad = await runSideband({
        ...s,
        sessionId: s.sessionId,
        callId: "rtc_x/../y",
      });
      assert.equal(bad.endReason, "error: invalid call id");
    } finally {
      await s.close();
    }
  },
});
