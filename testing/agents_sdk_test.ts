/**
 * The emulator driven by OpenAI's Agents SDK (`@openai/agents-realtime`), unmodified: its WebRTC
 * transport in Chromium on another origin (the browser bundle from the package's own files; its
 * SDP POST carries `X-OpenAI-Agents-SDK`, which the preflight must allow) and its WebSocket
 * transport from Deno. Both stream espeak-ng speech and get the transcript, including the item
 * the SDK fetches with `conversation.item.retrieve` after each turn.
 *
 * @module
 */
import assert from "node:assert/strict";
import { readWav } from "../emulator/audio.ts";
import { startTestEmulator } from "../emulator/testkit.ts";
import { launchBrowser } from "./browser.ts";
import {
  npmPackageDir,
  OpenAIRealtimeWebSocket,
  PACKAGES,
  servePackages,
} from "./openai_clients.ts";
import { makeSpeechWav } from "./speech.ts";

/** werift, Chromium and the SDK's `ws` socket leave timers and handles behind. */
const TW = { sanitizeResources: false, sanitizeOps: false };

/** The SDK's session: a realtime session whose input audio is transcribed, with server VAD. */
const SESSION = {
  audio: {
    input: {
      transcription: { model: "gpt-transcribe" },
      turnDetection: { type: "server_vad" },
    },
  },
};

const PAGE = `<!doctype html><script type="module">
  import { OpenAIRealtimeWebRTC } from "/agents/dist/bundle/openai-realtime-agents.mjs";
  globalThis.OpenAIRealtimeWebRTC = OpenAIRealtimeWebRTC;
  document.body.dataset.ready = "1";
</script>`;

Deno.test(
  "agents-realtime WebRTC transport in Chromium (another origin): connect, speech, transcript, retrieved item",
  TW,
  async () => {
    const text = "The agents SDK talks to the emulator.";
    const wav = await makeSpeechWav(text, { padStartSec: 1.5, padEndSec: 2 });
    const emu = await startTestEmulator();
    // The emulator before the CORS fix: only Authorization and Content-Type in the preflight.
    const strict = await startTestEmulator({
      corsAllowedHeaders: ["authorization", "content-type"],
    });
    const files = servePackages({ agents: await npmPackageDir(PACKAGES.agentsRealtime) }, {
      "/": PAGE,
    });
    const browser = await launchBrowser({ fakeAudioWav: wav.path });
    const mint = async (base: string, key: string) =>
      await fetch(`${base}/v1/realtime/client_secrets`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({
          session: {
            type: "realtime",
            model: "gpt-realtime",
            audio: { input: { transcription: { model: "gpt-transcribe" } } },
          },
        }),
      }).then((r) => r.json()).then((j) => j.value as string);
    try {
      emu.control.queueTranscripts([text]);
      const { page } = browser;
      await page.goto(files.url);
      await page.waitForFunction(() => document.body.dataset.ready === "1");
      const connect = (base: string, ek: string, session: unknown) =>
        page.evaluate(async ({ base, ek, session }) => {
          // deno-lint-ignore no-explicit-any
          const Transport = (globalThis as any).OpenAIRealtimeWebRTC;
          const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
          const transport = new Transport({
            baseUrl: `${base}/v1/realtime/calls`,
            mediaStream: stream,
            audioElement: document.createElement("audio"),
          });
          const types: string[] = [];
          const items: { itemId: string; content: { transcript?: string }[] }[] = [];
          transport.on("*", (e: { type: string }) => types.push(e.type));
          transport.on("item_update", (i: (typeof items)[number]) => items.push(i));
          try {
            await transport.connect({ apiKey: ek, initialSessionConfig: session });
          } catch (err) {
            return { error: String(err), types };
          }
          const callId = transport.callId;
          // The SDK retrieves the item after `completed`; wait for the retrieved transcript.
          const deadline = Date.now() + 15_000;
          while (
            !items.some((i) => i.content?.some((c) => c.transcript)) && Date.now() < deadline
          ) {
            await new Promise((r) => setTimeout(r, 50));
          }
          transport.close();
          return { error: null, callId, types, items };
        }, { base, ek, session });
      const result = await connect(emu.baseUrl, await mint(emu.baseUrl, emu.apiKey), SESSION);
      assert.equal(result.error, null, result.error ?? "");
      assert.match(result.callId ?? "", /^rtc_/);
      const types = result.types;
      assert.equal(types[0], "session.created");
      for (
        const t of [
          "session.updated",
          "input_audio_buffer.speech_started",
          "input_audio_buffer.committed",
          "conversation.item.input_audio_transcription.completed",
          "conversation.item.retrieved",
        ]
      ) assert.ok(types.includes(t), `${t} in ${types}`);
      assert.ok(!types.includes("error"), `no error event in ${types}`);
      const retrieved = result.items!.find((i) => i.content?.some((c) => c.transcript));
      assert.equal(retrieved?.content.find((c) => c.transcript)?.transcript, text);
      // The session the SDK pushed is the one in force (its model and VAD).
      // deno-lint-ignore no-explicit-any
      const session: any = emu.control.calls().find((c) => c.id === result.callId)!.session;
      assert.equal(session.audio.input.turn_detection.type, "server_vad");
      assert.equal(session.audio.input.transcription.model, "gpt-transcribe");

      // Without X-OpenAI-Agents-SDK in the preflight the browser refuses the SDP POST.
      const refused = await connect(
        strict.baseUrl,
        await mint(strict.baseUrl, strict.apiKey),
        SESSION,
      );
      assert.match(refused.error ?? "", /fetch/i);
      assert.equal(strict.control.calls().length, 0);
    } finally {
      await browser.close();
      await files.close();
      await strict.close();
      await emu.close();
    }
  },
);

Deno.test(
  "agents-realtime WebSocket transport from Deno: session, audio in, transcript and retrieved item out",
  TW,
  async () => {
    const text = "Sent over the agents WebSocket transport.";
    const wav = await makeSpeechWav(text, { sampleRate: 24000, padStartSec: 0.5, padEndSec: 1.5 });
    const pcm = readWav(await Deno.readFile(wav.path)).samples;
    const emu = await startTestEmulator();
    const transport = new OpenAIRealtimeWebSocket();
    const types: string[] = [];
    const completed = Promise.withResolvers<{ transcript: string; item_id: string }>();
    const retrieved = Promise.withResolvers<
      { itemId: string; content: { transcript?: string }[] }
    >();
    transport.on("*", (e: { type: string; transcript?: string; item_id?: string }) => {
      types.push(e.type);
      if (e.type === "conversation.item.input_audio_transcription.completed") {
        completed.resolve(e as { transcript: string; item_id: string });
      }
    });
    transport.on("item_update", (item) => {
      const i = item as unknown as { itemId: string; content?: { transcript?: string }[] };
      if (i.content?.some((c) => c.transcript)) retrieved.resolve(i as never);
    });
    try {
      emu.control.queueTranscripts([text]);
      await transport.connect({
        apiKey: emu.apiKey,
        model: "gpt-realtime",
        url: `${emu.baseUrl.replace(/^http/, "ws")}/v1/realtime?model=gpt-realtime`,
        initialSessionConfig: SESSION as never,
      });
      assert.equal(transport.status, "connected");
      // 100 ms chunks, as a microphone would deliver them.
      for (let i = 0; i < pcm.length; i += 2400) {
        const chunk = pcm.slice(i, i + 2400);
        transport.sendAudio(chunk.buffer);
      }
      const done = await completed.promise;
      assert.equal(done.transcript, text);
      const item = await retrieved.promise;
      assert.equal(item.itemId, done.item_id);
      assert.equal(item.content?.find((c) => c.transcript)?.transcript, text);
      assert.equal(types[0], "session.created");
      assert.ok(types.includes("conversation.item.retrieved"), `${types}`);
      assert.ok(!types.includes("error"), `no error event in ${types}`);
      const call = emu.control.calls().find((c) => c.kind === "websocket")!;
      // deno-lint-ignore no-explicit-any
      assert.equal((call.session as any).audio.input.transcription.model, "gpt-transcribe");
    } finally {
      transport.close();
      await emu.close();
    }
  },
);
