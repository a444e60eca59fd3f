/**
 * A real WebRTC translation call: headless Chromium with a fake microphone speaking two espeak-ng
 * sentences negotiates with `POST /v1/realtime/translations/calls` using a translation secret
 * (cross-origin, like api.openai.com). Asserted: the `oai-events` channel's `session.created`,
 * `session.output_transcript.delta` and `session.input_transcript.delta` with `elapsed_ms` aligned
 * with the WAV's speech regions, queued per-language text then the placeholder in the language set
 * by a data-channel `session.update`, the translated-speech track arriving (energy only once the
 * delayed speech starts), an allowed sideband seeing the same events, `session.close`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { launchBrowser } from "../testing/browser.ts";
import { makeUtterancesWav } from "../testing/speech.ts";
import { deltaText, type Ev, EventSocket, post, startTestEmulator, wsUrl } from "./testkit.ts";
import { SEGMENT_SILENCE_MS } from "./translation_engine.ts";

const OUT = "session.output_transcript.delta";
const IN = "session.input_transcript.delta";
const VAD_TOLERANCE_MS = 100;
const FRAME_MS = 200;

Deno.test({
  name: "WebRTC translation call from Chromium: events, elapsed_ms, audio track, sideband",
  // werift keeps node:crypto SRTP cipher handles and ICE timers after its peers close.
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const sentences = ["Welcome to the morning lecture.", "Please take your seats now."];
  const wav = await makeUtterancesWav(sentences, { padStartSec: 2, gapSec: 2, padEndSec: 3 });
  const [u1, u2] = wav.utterances;
  const delay = 1000;
  const emu = await startTestEmulator({
    translationDelayMs: delay,
    translationSideband: "realtime_url",
  });
  const browser = await launchBrowser({ fakeAudioWav: wav.path });
  let sideband: EventSocket | null = null;
  try {
    const spanish = "Bienvenidos a la clase de la mañana.";
    emu.control.queueTranslations("es", [spanish]);
    emu.control.queueTranscripts([sentences[0]]);
    const secret = await post(emu, "/v1/realtime/translations/client_secrets", {
      session: {
        model: "gpt-realtime-translate",
        audio: {
          input: { transcription: { model: "gpt-realtime-whisper" } },
          output: { language: "es" },
        },
      },
    });
    assert.equal(secret.status, 200, secret.text);
    const { page } = browser;
    const port = new URL(emu.baseUrl).port;
    await page.goto(`http://localhost:${port}/_emulator/health`);
    const created = await page.evaluate(async ({ ek, base }) => {
      // deno-lint-ignore no-explicit-any
      const w = globalThis as any;
      w.events = [];
      w.energyAt = {};
      const pc = new RTCPeerConnection();
      w.pc = pc;
      // The microphone goes on the sender once the channel is open, so the emulator's audio
      // time (elapsed_ms) equals the WAV's time.
      const transceiver = pc.addTransceiver("audio", { direction: "sendrecv" });
      const dc = pc.createDataChannel("oai-events");
      w.dc = dc;
      const energy = async () => {
        let e = 0;
        (await pc.getStats()).forEach((s) => {
          if (s.type === "inbound-rtp" && s.kind === "audio") e = s.totalAudioEnergy ?? 0;
        });
        return e;
      };
      w.energy = energy;
      dc.onmessage = async (m) => {
        const event = JSON.parse(m.data);
        w.events.push(event);
        const first = w.events.filter((e: { type: string }) => e.type === event.type).length === 1;
        if (first) w.energyAt[event.type] = await energy();
        if (event.type === "session.output_transcript.delta" && first) {
          // After the first segment started: later segments are translated into German.
          dc.send(JSON.stringify({
            type: "session.update",
            session: { audio: { output: { language: "de" } } },
          }));
        }
      };
      w.tracks = [];
      pc.ontrack = (e) => {
        w.tracks.push({ kind: e.track.kind, streams: e.streams.length });
        const audio = new Audio();
        audio.srcObject = e.streams[0];
        audio.play().catch(() => {});
        w.audio = audio;
      };
      const opened = new Promise((r) => dc.addEventListener("open", r, { once: true }));
      await pc.setLocalDescription(await pc.createOffer());
      const res = await fetch(`${base}/v1/realtime/translations/calls`, {
        method: "POST",
        headers: { Authorization: `Bearer ${ek}`, "Content-Type": "application/sdp" },
        body: pc.localDescription!.sdp,
      });
      const answer = await res.text();
      if (res.status === 201) {
        await pc.setRemoteDescription({ type: "answer", sdp: answer });
        await opened;
        const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
        await transceiver.sender.replaceTrack(stream.getAudioTracks()[0]);
      }
      return { status: res.status, location: res.headers.get("Location"), answer };
    }, { ek: secret.json!.value, base: emu.baseUrl });
    assert.equal(created.status, 201, created.answer);
    const callId = created.location!.split("/").pop()!;
    assert.match(callId, /^rtc_/);

    // The sideband (allowed by the option) sees the same translation events from now on.
    sideband = new EventSocket(wsUrl(emu, `call_id=${callId}`), {
      headers: { Authorization: `Bearer ${emu.apiKey}` },
    });
    await sideband.opened;

    // The placeholder of the second sentence is the last text; it comes after its speech + lag.
    await page.waitForFunction(
      () =>
        (globalThis as unknown as { events: Ev[] }).events.some((e) =>
          e.type === "session.output_transcript.delta" && e.delta.includes("[de")
        ),
      undefined,
      { timeout: wav.durationMs + 10_000 },
    );
    await page.evaluate(() => {
      const w = globalThis as unknown as { dc: RTCDataChannel };
      w.dc.send(JSON.stringify({ type: "session.close" }));
    });
    await page.waitForFunction(() =>
      (globalThis as unknown as { events: Ev[] }).events.some((e) => e.type === "session.closed")
    );
    const page1 = await page.evaluate(async () => {
      const w = globalThis as unknown as {
        events: Ev[];
        tracks: unknown[];
        energyAt: Record<string, number>;
        energy: () => Promise<number>;
        dc: RTCDataChannel;
      };
      for (let i = 0; i < 100 && w.dc.readyState !== "closed"; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      return {
        events: w.events,
        tracks: w.tracks,
        energyAt: w.energyAt,
        energyEnd: await w.energy(),
        channel: w.dc.readyState,
      };
    });
    const events = page1.events;
    assert.equal(events[0].type, "session.created");
    assert.equal(events[0].session.type, "translation");
    assert.deepEqual(events[0].session.audio.output, { language: "es" });
    const updated = events.find((e) => e.type === "session.updated")!;
    assert.deepEqual(updated.session.audio.output, { language: "de" });
    assert.equal(events.at(-1)!.type, "session.closed");

    // Translated text: the queued Spanish text, then the German placeholder of the second
    // sentence; source text: the queued sentence, then its placeholder.
    const out = deltaText(events, OUT);
    const m = out.match(/^(.*) \[de · speech (\d\.\d) s\]$/);
    assert.ok(m, out);
    assert.equal(m[1], spanish);
    const spoken2 = (u2.speechEndMs - u2.speechStartMs) / 1000;
    assert.ok(Math.abs(Number(m[2]) - spoken2) <= 0.3, `${m[2]} vs ${spoken2}`);
    const source = deltaText(events, IN);
    assert.match(
      source,
      new RegExp(`^${sentences[0].replace(".", "\\.")} \\[speech \\d\\.\\d s\\]$`),
    );

    // elapsed_ms: 200 ms steps, aligned with the WAV's speech (the emulator's audio time is the
    // WAV's time): source text within its sentence (+ the end-of-segment silence), translated
    // text shifted by the lag.
    const deltas = events.filter((e) => e.type === OUT || e.type === IN);
    for (const e of deltas) assert.equal(e.elapsed_ms % FRAME_MS, 0);
    const inOf = (u: typeof u1) => (e: Ev) =>
      e.elapsed_ms >= u.speechStartMs - VAD_TOLERANCE_MS &&
      e.elapsed_ms <= u.speechEndMs + SEGMENT_SILENCE_MS + FRAME_MS + VAD_TOLERANCE_MS;
    const shifted = (u: typeof u1) => ({
      ...u,
      speechStartMs: u.speechStartMs + delay,
      speechEndMs: u.speechEndMs + delay,
    });
    const sourceDeltas = events.filter((e) => e.type === IN);
    const outDeltas = events.filter((e) => e.type === OUT);
    const [firstOut, lastOut] = [outDeltas.slice(0, -1), outDeltas.at(-1)!];
    assert.ok(sourceDeltas.slice(0, -1).every(inOf(u1)), JSON.stringify(sourceDeltas));
    assert.ok(inOf(u2)(sourceDeltas.at(-1)!), JSON.stringify(sourceDeltas.at(-1)));
    assert.ok(firstOut.every(inOf(shifted(u1))), JSON.stringify(firstOut));
    assert.ok(inOf(shifted(u2))(lastOut), JSON.stringify(lastOut));
    assert.ok(firstOut.at(-1)!.elapsed_ms >= u1.speechEndMs + delay - VAD_TOLERANCE_MS);

    // The translated-speech track: one remote audio track with a stream; silent until the
    // delayed speech begins (the first source delta comes ~650 ms before it), audible after.
    assert.deepEqual(page1.tracks, [{ kind: "audio", streams: 1 }]);
    assert.ok(page1.energyAt[IN] < 0.001, `energy before: ${page1.energyAt[IN]}`);
    assert.ok(page1.energyEnd > 0.02, `energy after: ${page1.energyEnd}`);
    const peer = emu.control.calls().find((c) => c.id === callId)!;
    // deno-lint-ignore no-explicit-any
    assert.equal((peer as any).utterances, 2);

    // The sideband got the same deltas (it attached before the speech began).
    const strip = (list: Ev[]) =>
      list.filter((e) => e.type === OUT || e.type === IN).map((
        e,
      ) => [e.type, e.delta, e.elapsed_ms]);
    assert.deepEqual(strip(sideband.events), strip(events));
    assert.ok(sideband.types().includes("session.updated"));
    assert.ok(sideband.types().includes("session.closed"));
    assert.equal((await sideband.closed).code, 1000);

    // session.close ended the call: the page's channel is closed by the emulator.
    assert.equal(page1.channel, "closed");
    const ended = emu.control.calls().find((c) => c.id === callId)!;
    assert.equal(ended.state, "ended");
    assert.equal(ended.endedReason, "session.close");
  } finally {
    await sideband?.close();
    await browser.close();
    await emu.close();
  }
});
