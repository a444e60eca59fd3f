/**
 * Graceful shutdown: `start.ts` as a real subprocess against an emulator, a file-backed store,
 * utterances flowing over a live call, then SIGTERM. The process must exit 0 on its own, and the
 * store file must hold every event the app had recorded before the signal (read through the
 * app's API just before it) and every event the call sent well before the signal (seen by a
 * second connection to the same call).
 */
import assert from "node:assert/strict";
import { startEmulator } from "../emulator/mod.ts";
import { appendAudio, type Ev, EventSocket, silence, tone, wsUrl } from "../emulator/testkit.ts";
import { loadConfig } from "../lib/config.ts";
import { openStore } from "../lib/store/mod.ts";
import { createTestPeer, postJson, waitFor } from "./server.ts";

const COMPLETED = "conversation.item.input_audio_transcription.completed";
/** Events the watcher saw this long before the signal must have reached the app too. */
const SLACK_MS = 100;

/** Collects a stream's text, line by line, while the process runs. */
function collect(stream: ReadableStream<Uint8Array>, lines: string[]): Promise<void> {
  return (async () => {
    let rest = "";
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      rest += decoder.decode(chunk, { stream: true });
      const parts = rest.split("\n");
      rest = parts.pop() ?? "";
      lines.push(...parts);
    }
    if (rest) lines.push(rest);
  })();
}

Deno.test({
  name: "graceful shutdown: SIGTERM flushes the sidebands, keeps every recorded event, exits 0",
  ignore: Deno.build.os === "windows",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const emulator = await startEmulator({
      firstDeltaDelayMs: 10,
      completedDelayMs: 40,
      sessionUpdatedDelayMs: 0,
    });
    const dir = await Deno.makeTempDir({ prefix: "shutdown_test_" });
    const dbUrl = `file:${dir}/app.db`;
    const out: string[] = [];
    const err: string[] = [];
    const peer = await createTestPeer();
    let child: Deno.ChildProcess | null = null;
    let watcher: EventSocket | null = null;
    try {
      child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL("../start.ts", import.meta.url).pathname],
        env: {
          OPENAI_API_KEY: emulator.apiKey,
          OPENAI_BASE_URL: emulator.baseUrl,
          PORT: "0",
          DATABASE_URL: dbUrl,
          SIGNING_SECRET: "test-signing-secret-0123456789",
          INTERNAL_SECRET: "test-internal-secret-0123456789",
          // The test speaks into the call itself: a model whose turns the server VAD ends.
          TRANSCRIPTION_MODEL: "gpt-transcribe",
        },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const reading = Promise.all([collect(child.stdout, out), collect(child.stderr, err)]);
      const listening = await waitFor(
        () => out.find((l) => l.includes("hello-transcription is listening")),
        { timeoutMs: 60_000, message: `start.ts listening; stderr: ${err.join("\n")}` },
      );
      const port = new URL(JSON.parse(listening).url).port;
      const base = `http://127.0.0.1:${port}`;

      const minted = await postJson(base, "/api/session", {});
      assert.equal(minted.status, 200, JSON.stringify(minted.json));
      const { sessionId, ticket } = minted.json;
      const relay = await postJson(base, "/api/calls", { ticket, sdp: peer.offer });
      assert.equal(relay.status, 201, JSON.stringify(relay.json));
      const callId: string = relay.json.callId;
      await peer.answer(relay.json.sdp);
      await waitFor(async () => {
        const res = await fetch(`${base}/api/sessions/${sessionId}`);
        const body = await res.json();
        return (body.session ?? body).status === "live";
      }, { message: "session live", timeoutMs: 10_000 });

      // A second connection to the call speaks and watches what the call sends.
      watcher = new EventSocket(wsUrl(emulator, `call_id=${callId}`), {
        headers: { Authorization: `Bearer ${emulator.apiKey}` },
      });
      await watcher.opened;
      const seenAt = new Map<string, number>();
      watcher.ws.addEventListener("message", (m) => {
        const ev = JSON.parse(m.data as string) as Ev;
        seenAt.set(ev.event_id, performance.now());
      });
      const speak = (n: number) => {
        emulator.control.queueTranscripts([`sentence ${n}`], callId);
        appendAudio(watcher!, tone(400));
        appendAudio(watcher!, silence(500));
      };
      for (let n = 1; n <= 3; n++) {
        speak(n);
        await watcher.waitFor(COMPLETED, (e) => e.transcript === `sentence ${n}`);
      }
      await waitFor(async () => {
        const res = await fetch(`${base}/api/sessions/${sessionId}`);
        const body = await res.json();
        return body.utterances?.filter((u: Ev) => u.status === "final").length === 3;
      }, { message: "three utterances recorded" });
      // What the app says it has recorded, right before the signal …
      const snapshot = await (await fetch(`${base}/api/sessions/${sessionId}`)).json();
      const recorded = snapshot.utterances as Ev[];
      const lastSeq = snapshot.lastSeq as number;
      assert.ok(lastSeq > 0);
      // … and events still in flight when it arrives.
      speak(4);
      await watcher.waitFor("input_audio_buffer.committed", () => true);
      const signalledAt = performance.now();
      child.kill("SIGTERM");
      const exited = await Promise.race([
        child.status,
        new Promise<null>((r) => setTimeout(() => r(null), 15_000)),
      ]);
      assert.ok(exited, "start.ts did not exit within 15 s of SIGTERM");
      assert.equal(exited.code, 0, `exit code; stderr: ${err.join("\n")}`);
      await reading;

      const config = await loadConfig({}, { platform: "local" });
      const store = await openStore(config, { url: dbUrl });
      try {
        const events = await store.listEvents(sessionId, { limit: 10_000 });
        const stored = new Set(events.map((e) => e.eventId));
        const missing = [...seenAt].filter(([id, at]) =>
          at < signalledAt - SLACK_MS && !stored.has(id)
        );
        assert.deepEqual(missing, [], "events sent before the signal are missing");
        assert.ok(Math.max(...events.map((e) => e.seq)) >= lastSeq);
        const finals = (await store.listUtterances(sessionId))
          .filter((u) => u.status === "final").map((u) => u.text);
        for (const u of recorded) {
          if (u.status === "final") assert.ok(finals.includes(u.text), u.text);
        }
        assert.deepEqual(finals.slice(0, 3), ["sentence 1", "sentence 2", "sentence 3"]);
        const row = await store.getSession(sessionId);
        assert.equal(row?.status, "ended");
        assert.equal(row?.endReason, "server_shutdown");
      } finally {
        await store.close();
      }
      // The call itself was left running (only our recording stopped) and no key was logged.
      const call = emulator.control.calls().find((c) => c.id === callId) as { state: string };
      assert.equal(call.state, "active");
      assert.ok(![...out, ...err].some((l) => l.includes(emulator.apiKey)));
    } finally {
      if (child) {
        try {
          child.kill("SIGKILL");
        } catch { /* already exited */ }
        await child.status;
      }
      await watcher?.close().catch(() => {});
      await peer.close();
      await emulator.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
