/**
 * The full emulator flow over real WebRTC: headless Chromium with a fake microphone
 * speaking an espeak-ng sentence negotiates with the emulator using an ephemeral key
 * from client_secrets; the data channel and an attached sideband both receive the
 * canonical per-utterance sequence with the queued transcript text.
 *
 * @module
 */
import assert from "node:assert/strict";
import { launchBrowser } from "../testing/browser.ts";
import { makeSpeechWav } from "../testing/speech.ts";
import { EventSocket, post, startTestEmulator, wsUrl } from "./testkit.ts";

const CANONICAL = [
  "input_audio_buffer.speech_started",
  "input_audio_buffer.speech_stopped",
  "input_audio_buffer.committed",
  "conversation.item.added",
  "conversation.item.done",
  "conversation.item.input_audio_transcription.delta",
  "conversation.item.input_audio_transcription.completed",
];

function sequence(types: string[]): string[] {
  const out: string[] = [];
  for (const t of types) {
    if (!CANONICAL.includes(t)) continue;
    if (out[out.length - 1] === t && t.endsWith(".delta")) continue;
    out.push(t);
  }
  return out;
}

Deno.test({
  name: "WebRTC call from Chromium: data channel and sideband see the utterance",
  // werift keeps node:crypto SRTP cipher handles and ICE timers after its peers close.
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const text = "The quick brown fox jumps over the lazy dog.";
  const wav = await makeSpeechWav(text, { padStartSec: 2, padEndSec: 2 });
  const emu = await startTestEmulator();
  const browser = await launchBrowser({ fakeAudioWav: wav.path });
  let sideband: EventSocket | null = null;
  try {
    emu.control.queueTranscripts([text]);
    const secret = await post(emu, "/v1/realtime/client_secrets", {
      session: {
        type: "transcription",
        audio: { input: { transcription: { model: "gpt-4o-transcribe" } } },
      },
    });
    assert.equal(secret.status, 200);
    const ek: string = secret.json!.value;
    const { page } = browser;
    // The page is on another origin (localhost vs 127.0.0.1): the POST needs CORS
    // and the exposed Location header, as with api.openai.com.
    const port = new URL(emu.baseUrl).port;
    await page.goto(`http://localhost:${port}/_emulator/health`);
    const created = await page.evaluate(async ({ ek, base }) => {
      const w = globalThis as unknown as Record<string, unknown>;
      const events: unknown[] = [];
      w.events = events;
      const pc = new RTCPeerConnection();
      w.pc = pc;
      // The audio m-line comes from a transceiver; the microphone is put on it only
      // once the channel is open, so the first RTP packet carries the start of the
      // WAV and the emulator's audio time equals the WAV's time (see webrtc_test.ts).
      const transceiver = pc.addTransceiver("audio", { direction: "sendrecv" });
      const dc = pc.createDataChannel("oai-events");
      dc.onmessage = (e) => events.push(JSON.parse(e.data));
      const opened = new Promise((r) => dc.addEventListener("open", r, { once: true }));
      w.dc = dc;
      await pc.setLocalDescription(await pc.createOffer());
      const res = await fetch(`${base}/v1/realtime/calls`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${ek}`,
          "Content-Type": "application/sdp",
        },
        body: pc.localDescription!.sdp,
      });
      const answer = await res.text();
      if (res.status === 201) {
        await pc.setRemoteDescription({ type: "answer", sdp: answer });
        await opened;
        const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
        await transceiver.sender.replaceTrack(stream.getAudioTracks()[0]);
      }
      return {
        status: res.status,
        location: res.headers.get("Location"),
        answer,
      };
    }, { ek, base: emu.baseUrl });
    assert.equal(created.status, 201, created.answer);
    const callId = created.location!.split("/").pop()!;
    assert.match(callId, /^rtc_/);

    sideband = new EventSocket(wsUrl(emu, `call_id=${callId}`), {
      headers: { Authorization: `Bearer ${emu.apiKey}` },
    });
    await sideband.opened;
    // Client events on the data channel are handled like WebSocket client events:
    // session.updated fans out; an error goes to the sender only.
    await page.evaluate(() => {
      const dc = (globalThis as unknown as { dc: RTCDataChannel }).dc;
      const send = () => {
        dc.send(
          JSON.stringify({ type: "nonsense.event", event_id: "evt_page_1" }),
        );
        dc.send(JSON.stringify({
          type: "session.update",
          session: {
            type: "transcription",
            include: ["item.input_audio_transcription.logprobs"],
          },
        }));
      };
      if (dc.readyState === "open") send();
      else dc.addEventListener("open", send, { once: true });
    });
    const updated = await sideband.waitFor("session.updated");
    assert.deepEqual(updated.session.include, [
      "item.input_audio_transcription.logprobs",
    ]);
    const completed = await sideband.waitFor(
      "conversation.item.input_audio_transcription.completed",
      () => true,
      wav.durationMs + 8000,
    );
    assert.equal(completed.transcript, text);
    assert.deepEqual(sequence(sideband.types()), CANONICAL);
    const started = sideband.events.find((e) => e.type === "input_audio_buffer.speech_started")!;
    const stopped = sideband.events.find((e) => e.type === "input_audio_buffer.speech_stopped")!;
    // Audio positions come from the real decoded audio: the detected speech region is
    // within ±100 ms of the WAV's (audio_start_ms includes the 300 ms prefix padding).
    assert.ok(
      Math.abs(started.audio_start_ms + 300 - wav.speechStartMs) <= 100,
      `start ${started.audio_start_ms} + 300 vs ${wav.speechStartMs}`,
    );
    // audio_end_ms includes the silence that ended the turn (option speechStoppedAudioEnd).
    const silenceMs = secret.json!.session.audio.input.turn_detection.silence_duration_ms;
    assert.ok(
      Math.abs(stopped.audio_end_ms - silenceMs - wav.speechEndMs) <= 100,
      `end ${stopped.audio_end_ms} - ${silenceMs} vs ${wav.speechEndMs}`,
    );

    await page.waitForFunction(() =>
      (globalThis as unknown as { events: { type: string }[] }).events
        .some((e) => e.type === "conversation.item.input_audio_transcription.completed")
    );
    // deno-lint-ignore no-explicit-any
    const dcEvents: any[] = await page.evaluate(() =>
      (globalThis as unknown as { events: unknown[] }).events
    );
    assert.equal(dcEvents[0].type, "session.created");
    assert.equal(dcEvents[0].session.type, "transcription");
    assert.deepEqual(sequence(dcEvents.map((e) => e.type)), CANONICAL);
    assert.equal(
      dcEvents.find((e) => e.type.endsWith(".completed")).transcript,
      text,
    );
    const dcError = dcEvents.find((e) => e.type === "error");
    assert.equal(dcError.error.code, "invalid_value");
    assert.equal(dcError.error.event_id, "evt_page_1");
    assert.ok(dcEvents.some((e) => e.type === "session.updated"));
    assert.ok(!sideband.types().includes("error"));
    assert.ok(completed.logprobs.length > 0);

    const calls = emu.control.calls();
    const call = calls.find((c) => c.id === callId)!;
    assert.ok(
      (call.audioPackets as number) > 50,
      `audio packets ${call.audioPackets}`,
    );
    assert.equal(call.utterances, 1);

    const hang = await post(emu, `/v1/realtime/calls/${callId}/hangup`, {});
    assert.equal(hang.status, 200);
    await sideband.closed;
    // The browser sees the hangup on its data channel (SCTP stream reset), well before ICE would
    // notice: the channel is `closed` within ms (docs/emulator.md).
    const pageSide = await page.evaluate(async () => {
      const w = globalThis as unknown as { dc: RTCDataChannel; pc: RTCPeerConnection };
      for (let i = 0; i < 100 && w.dc.readyState !== "closed"; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      return { channel: w.dc.readyState, connection: w.pc.connectionState };
    });
    assert.equal(pageSide.channel, "closed", "the page's channel saw the server's close");
    assert.equal(pageSide.connection, "connected", "noticed through SCTP, not ICE");
    assert.equal(
      (await post(emu, `/v1/realtime/calls/${callId}/hangup`, {})).status,
      404,
    );

    // With the expose header switched off, a cross-origin page cannot read Location.
    await post(emu, "/_emulator/faults", { exposeLocation: false });
    const hidden = await page.evaluate(async ({ ek, base }) => {
      const pc = new RTCPeerConnection();
      pc.addTransceiver("audio");
      pc.createDataChannel("oai-events");
      await pc.setLocalDescription(await pc.createOffer());
      const res = await fetch(`${base}/v1/realtime/calls`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${ek}`,
          "Content-Type": "application/sdp",
        },
        body: pc.localDescription!.sdp,
      });
      await res.text();
      pc.close();
      return { status: res.status, location: res.headers.get("Location") };
    }, { ek, base: emu.baseUrl });
    assert.deepEqual(hidden, { status: 201, location: null });
  } finally {
    await sideband?.close();
    await browser.close();
    await emu.close();
  }
});
