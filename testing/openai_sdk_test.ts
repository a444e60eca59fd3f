/**
 * The emulator driven by OpenAI's `openai` package, unmodified: REST (client secrets, calls,
 * errors with `requestID`), webhooks (`unwrap` / `verifySignature` on a real SIP delivery, then
 * `calls.accept` / `hangup`), and its browser WebRTC helper (`openai/realtime/webrtc`, served
 * from the package's own files) in Chromium on another origin, speaking espeak-ng speech.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startTestEmulator } from "../emulator/testkit.ts";
import { launchBrowser } from "./browser.ts";
import { npmPackageDir, OpenAI, PACKAGES, servePackages } from "./openai_clients.ts";
import { makeSpeechWav } from "./speech.ts";
import { createTestPeer } from "./server.ts";

/** werift and Chromium leave timers and handles behind. */
const TW = { sanitizeResources: false, sanitizeOps: false };

Deno.test("openai REST client: client secrets, calls, errors carry requestID", TW, async () => {
  const emu = await startTestEmulator();
  const peer = await createTestPeer();
  const client = new OpenAI({ apiKey: emu.apiKey, baseURL: `${emu.baseUrl}/v1`, maxRetries: 0 });
  try {
    const { data: secret, response } = await client.realtime.clientSecrets.create({
      session: {
        type: "transcription",
        audio: { input: { transcription: { model: "gpt-live-transcribe" } } },
      },
    }).withResponse();
    assert.match(secret.value, /^ek_/);
    assert.match(response.headers.get("x-request-id") ?? "", /^req_/);
    assert.equal(secret.session.type, "transcription");
    // The 2026-12 rule, seen through the SDK: omitted turn detection means none for this model.
    assert.equal(
      (secret.session as { audio?: { input?: { turn_detection?: unknown } } }).audio?.input
        ?.turn_detection,
      null,
    );

    const refused = await client.realtime.clientSecrets.create({
      session: {
        type: "transcription",
        audio: {
          input: {
            transcription: { model: "gpt-live-transcribe" },
            turn_detection: { type: "server_vad" },
          },
        },
      },
    }).catch((e) => e);
    assert.ok(refused instanceof OpenAI.BadRequestError, String(refused));
    assert.equal(refused.status, 400);
    assert.equal(refused.code, "invalid_value");
    assert.equal(refused.param, "session.audio.input.turn_detection");
    assert.match(refused.message, /Turn detection is not supported for this transcription model/);
    assert.match(refused.requestID ?? "", /^req_/);

    const wrong = new OpenAI({
      apiKey: "sk-wrong-1234",
      baseURL: `${emu.baseUrl}/v1`,
      maxRetries: 0,
    });
    const denied = await wrong.realtime.clientSecrets.create({}).catch((e) => e);
    assert.ok(denied instanceof OpenAI.AuthenticationError, String(denied));

    // calls.create posts the offer (multipart with a session); the answer is the SDP.
    const answer = await client.realtime.calls.create({
      sdp: peer.offer,
      session: {
        type: "realtime",
        model: "gpt-realtime",
        audio: { input: { transcription: { model: "gpt-transcribe" } } },
      },
    });
    assert.equal(answer.status, 201);
    assert.match(await answer.text(), /^v=0/);
    const callId = answer.headers.get("location")!.split("/").pop()!;
    assert.match(callId, /^rtc_/);
    // deno-lint-ignore no-explicit-any
    const listed: any = emu.control.calls().find((c) => c.id === callId)!.session;
    assert.equal(listed.audio.input.transcription.model, "gpt-transcribe");
    await client.realtime.calls.hangup(callId);
    const again = await client.realtime.calls.hangup(callId).catch((e) => e);
    assert.ok(again instanceof OpenAI.NotFoundError, String(again));
  } finally {
    await peer.close();
    await emu.close();
  }
});

Deno.test(
  "openai webhooks: unwrap and verifySignature accept the emulator's SIP delivery; accept and hang up",
  TW,
  async () => {
    const emu = await startTestEmulator();
    const secret = `whsec_${crypto.getRandomValues(new Uint8Array(32)).toBase64()}`;
    const client = new OpenAI({
      apiKey: emu.apiKey,
      baseURL: `${emu.baseUrl}/v1`,
      webhookSecret: secret,
      maxRetries: 0,
    });
    const got = Promise.withResolvers<{ body: string; headers: Headers }>();
    const hook = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      got.resolve({ body: await req.text(), headers: req.headers });
      return new Response(null, { status: 200 });
    });
    try {
      const incoming = await fetch(`${emu.baseUrl}/_emulator/sip/incoming`, {
        method: "POST",
        body: JSON.stringify({ webhookUrl: `http://127.0.0.1:${hook.addr.port}/`, secret }),
      }).then((r) => r.json());
      const { body, headers } = await got.promise;
      await client.webhooks.verifySignature(body, headers);
      const event = await client.webhooks.unwrap(body, headers);
      assert.equal(event.type, "realtime.call.incoming");
      assert.equal(
        (event as { data: { call_id: string } }).data.call_id,
        incoming.callId,
      );
      // A tampered body or another secret fails, as it must.
      await assert.rejects(() => client.webhooks.unwrap(body.replace("rtc_", "rtc_x"), headers));
      await assert.rejects(() =>
        client.webhooks.verifySignature(body, headers, `whsec_${"A".repeat(44)}`)
      );

      await client.realtime.calls.accept(incoming.callId, {
        type: "realtime",
        model: "gpt-realtime",
        output_modalities: ["text"],
        audio: { input: { transcription: { model: "gpt-transcribe" } } },
      });
      assert.equal(emu.control.calls().find((c) => c.id === incoming.callId)!.state, "active");
      await client.realtime.calls.hangup(incoming.callId);
      assert.equal(emu.control.calls().find((c) => c.id === incoming.callId)!.state, "ended");
    } finally {
      await hook.shutdown();
      await emu.close();
    }
  },
);

Deno.test(
  "openai/realtime/webrtc in Chromium (another origin): connects, streams, gets the transcript",
  TW,
  async () => {
    const text = "The browser helper of the openai package works.";
    const wav = await makeSpeechWav(text, { padStartSec: 1.5, padEndSec: 2 });
    const emu = await startTestEmulator();
    const files = servePackages({ openai: await npmPackageDir(PACKAGES.openai) }, {
      "/": `<!doctype html><script type="module">
      import { OpenAIRealtimeWebRTC } from "/openai/realtime/webrtc.mjs";
      globalThis.OpenAIRealtimeWebRTC = OpenAIRealtimeWebRTC;
      document.body.dataset.ready = "1";
    </script>`,
    });
    const browser = await launchBrowser({ fakeAudioWav: wav.path });
    try {
      emu.control.queueTranscripts([text]);
      const ek = await fetch(`${emu.baseUrl}/v1/realtime/client_secrets`, {
        method: "POST",
        headers: { authorization: `Bearer ${emu.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({
          session: {
            type: "transcription",
            audio: { input: { transcription: { model: "gpt-transcribe" } } },
          },
        }),
      }).then((r) => r.json()).then((j) => j.value as string);
      const { page } = browser;
      await page.goto(files.url);
      await page.waitForFunction(() => document.body.dataset.ready === "1");
      const result = await page.evaluate(async ({ ek, base }) => {
        // deno-lint-ignore no-explicit-any
        const Conn = (globalThis as any).OpenAIRealtimeWebRTC;
        const conn = new Conn();
        const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
        conn.peerConnection.addTrack(stream.getAudioTracks()[0], stream);
        const types: string[] = [];
        conn.onEvent((e: { type: string }) => types.push(e.type));
        const done = new Promise<{ transcript: string }>((resolve) =>
          conn.on("conversation.item.input_audio_transcription.completed", resolve)
        );
        let location: string | null = null;
        await conn.connect({
          exchangeSdp: async (offer: string, { signal }: { signal: AbortSignal }) => {
            const res = await fetch(`${base}/v1/realtime/calls`, {
              method: "POST",
              headers: { Authorization: `Bearer ${ek}`, "Content-Type": "application/sdp" },
              body: offer,
              signal,
            });
            location = res.headers.get("Location");
            return await res.text();
          },
        });
        const state = conn.state;
        const completed = await done;
        conn.close();
        return { state, location, transcript: completed.transcript, types };
      }, { ek, base: emu.baseUrl });
      assert.equal(result.state, "connected");
      assert.match(result.location ?? "", /^\/v1\/realtime\/calls\/rtc_/);
      assert.equal(result.transcript, text);
      assert.equal(result.types[0], "session.created");
      for (const t of ["input_audio_buffer.speech_started", "input_audio_buffer.committed"]) {
        assert.ok(result.types.includes(t), `${t} in ${result.types}`);
      }
    } finally {
      await browser.close();
      await files.close();
      await emu.close();
    }
  },
);
