/**
 * Conformance, Realtime Translation WebSocket `/v1/realtime/translations?model=…` with real
 * espeak-ng speech appended as base64 24 kHz PCM16: the handshake outcomes, `session.created`,
 * `session.update` of the output language, 200 ms frames and `elapsed_ms` aligned with the WAV's
 * speech region, translated text from the per-language queue or the marked placeholder,
 * `session.output_audio.delta` over the (delayed) speech span, source text only with input
 * transcription, client-event errors, `session.close` → `session.closed` → 1000, expiry.
 *
 * @module
 */
import assert from "node:assert/strict";
import { makeUtterancesWav } from "../testing/speech.ts";
import { base64ToPcm16, readWav } from "./audio.ts";
import type { RunningEmulator } from "./mod.ts";
import { type Ev, EventSocket, post, silence, startTestEmulator, tone } from "./testkit.ts";
import { SEGMENT_SILENCE_MS } from "./translation_engine.ts";

const OUT = "session.output_transcript.delta";
const IN = "session.input_transcript.delta";
const AUDIO = "session.output_audio.delta";
/** The VAD finds a speech region within this of the WAV's true region (as for transcription). */
const VAD_TOLERANCE_MS = 100;
const FRAME_MS = 200;

function url(emu: RunningEmulator, query = "model=gpt-realtime-translate"): string {
  return `${emu.baseUrl.replace(/^http/, "ws")}/v1/realtime/translations?${query}`;
}

async function translationSocket(emu: RunningEmulator, key = emu.apiKey): Promise<EventSocket> {
  const s = new EventSocket(url(emu), { headers: { Authorization: `Bearer ${key}` } });
  await s.opened;
  await s.waitFor("session.created");
  return s;
}

/** Appends PCM16 as `session.input_audio_buffer.append` in chunks of `chunkMs`. */
function append(s: EventSocket, pcm: Int16Array, chunkMs = FRAME_MS): void {
  const n = chunkMs * 24;
  for (let off = 0; off < pcm.length; off += n) {
    const c = pcm.subarray(off, Math.min(off + n, pcm.length));
    const audio = new Uint8Array(c.buffer, c.byteOffset, c.byteLength).toBase64();
    s.send({ type: "session.input_audio_buffer.append", audio });
  }
}

async function wav24k(path: string): Promise<Int16Array> {
  const w = readWav(await Deno.readFile(path));
  assert.equal(w.sampleRate, 24000);
  return w.samples;
}

function text(events: Ev[], type: string): string {
  return events.filter((e) => e.type === type).map((e) => e.delta).join("");
}

Deno.test("translation socket: espeak speech → queued text, placeholder, audio, aligned elapsed_ms", async () => {
  const sentences = ["Good morning everyone and welcome.", "Thank you for coming today."];
  const wav = await makeUtterancesWav(sentences, {
    sampleRate: 24000,
    padStartSec: 1,
    gapSec: 2,
    padEndSec: 3,
  });
  const [u1, u2] = wav.utterances;
  const delay = 1000;
  const emu = await startTestEmulator({ translationDelayMs: delay });
  const s = await translationSocket(emu);
  try {
    const created = s.events[0];
    assert.equal(created.session.type, "translation");
    assert.equal(created.session.model, "gpt-realtime-translate");
    assert.deepEqual(created.session.audio.input, { noise_reduction: null, transcription: null });
    s.send({ type: "session.update", session: { audio: { output: { language: "es" } } } });
    const updated = await s.waitFor("session.updated");
    assert.equal(updated.session.audio.output.language, "es");
    assert.equal(updated.session.id, created.session.id);

    // Only one Spanish text queued (and a German one that must stay untouched): the first
    // utterance gets it, the second the placeholder.
    const spanish = "Buenos días a todos y bienvenidos.";
    const q = await post(emu, "/_emulator/transcripts", { texts: [spanish], language: "es" });
    assert.equal(q.status, 200, q.text);
    await post(emu, "/_emulator/transcripts", { texts: ["Guten Morgen."], language: "de" });
    // Irregular chunks: the server buffers them into 200 ms frames.
    append(s, await wav24k(wav.path), 130);
    s.send({ type: "session.close" });
    await s.waitFor("session.closed", () => true, 10_000);
    const close = await s.closed;
    assert.equal(close.code, 1000);

    const deltas = s.events.filter((e) => e.type === OUT || e.type === IN || e.type === AUDIO);
    for (const e of deltas) {
      assert.equal(e.elapsed_ms % FRAME_MS, 0, JSON.stringify(e.elapsed_ms));
      assert.match(e.event_id, /^event_/);
    }
    const elapsed = deltas.map((e) => e.elapsed_ms);
    assert.deepEqual(elapsed, [...elapsed].sort((a, b) => a - b), "elapsed_ms never goes back");
    // No input transcription configured: no source text.
    assert.equal(s.events.filter((e) => e.type === IN).length, 0);

    const out = s.events.filter((e) => e.type === OUT);
    const whole = text(s.events, OUT);
    const m = whole.match(/^(.*) \[es · speech (\d+\.\d) s\]$/);
    assert.ok(m, whole);
    assert.equal(m[1], spanish);
    // The placeholder's duration is the second utterance's, as the VAD measured it.
    const spoken = (u2.speechEndMs - u2.speechStartMs) / 1000;
    assert.ok(Math.abs(Number(m[2]) - spoken) <= 0.3, `${m[2]} s vs ${spoken} s`);
    assert.ok(out.length >= 6, "the queued text streams word by word");

    // elapsed_ms ties each delta to its source: the first utterance's text starts after its
    // speech starts (+ the lag) and ends once it is over (+ lag, + the silence that ends it).
    const first = out.filter((e) => !e.delta.includes("[es"));
    const last = out[out.length - 1];
    const late = delay + SEGMENT_SILENCE_MS + FRAME_MS + VAD_TOLERANCE_MS;
    assert.ok(first[0].elapsed_ms >= u1.speechStartMs + delay - VAD_TOLERANCE_MS, "not before");
    assert.ok(first.at(-1)!.elapsed_ms <= u1.speechEndMs + late, "first text ends in time");
    assert.ok(first.at(-1)!.elapsed_ms >= u1.speechEndMs + delay - VAD_TOLERANCE_MS);
    assert.ok(first.at(-1)!.elapsed_ms < u2.speechStartMs + delay, "before the next utterance");
    assert.ok(last.elapsed_ms >= u2.speechEndMs + delay - VAD_TOLERANCE_MS);
    assert.ok(last.elapsed_ms <= u2.speechEndMs + late);

    // Translated "speech": PCM16 24 kHz, over each utterance's span shifted by the lag.
    const audio = s.events.filter((e) => e.type === AUDIO);
    assert.ok(audio.length > 0);
    let voiced = 0;
    for (const a of audio) {
      assert.equal(a.sample_rate, 24000);
      assert.equal(a.format, "pcm16");
      assert.equal(a.channels, 1);
      const pcm = base64ToPcm16(a.delta);
      assert.equal(pcm.length, 24 * FRAME_MS);
      const from = a.elapsed_ms - FRAME_MS;
      const inside = wav.utterances.some((u) =>
        from < u.speechEndMs + delay + FRAME_MS + VAD_TOLERANCE_MS + 200 &&
        a.elapsed_ms > u.speechStartMs + delay - VAD_TOLERANCE_MS
      );
      assert.ok(inside, `audio at ${a.elapsed_ms} outside every delayed utterance`);
      if (pcm.some((v) => Math.abs(v) > 1000)) voiced++;
    }
    const spans = wav.utterances.reduce((ms, u) => ms + u.speechEndMs - u.speechStartMs, 0);
    assert.ok(Math.abs(voiced * FRAME_MS - spans) <= 2 * FRAME_MS * 2, `${voiced} voiced frames`);

    // The German text is still queued; the Spanish one was used.
    const left = await (await fetch(`${emu.baseUrl}/_emulator/transcripts`)).json();
    assert.deepEqual(left.languages.de.global, ["Guten Morgen."]);
    assert.deepEqual(left.languages.es.global, []);
    const call = emu.control.calls().find((c) => c.id === created.session.id)!;
    assert.equal(call.api, "translation");
    assert.equal(call.kind, "websocket");
    assert.equal(call.utterances, 2);
    assert.equal(call.endedReason, "session.close");
  } finally {
    await s.close();
    await emu.close();
  }
});

Deno.test("translation socket: input transcription → source text from the transcription queue", async () => {
  const emu = await startTestEmulator({ translationDelayMs: 400 });
  try {
    const r = await post(emu, "/v1/realtime/translations/client_secrets", {
      session: {
        model: "gpt-realtime-translate",
        audio: {
          input: { transcription: { model: "gpt-realtime-whisper" } },
          output: { language: "fr" },
        },
      },
    });
    // A translation secret opens the socket too (its session, not the URL's model).
    const s = await translationSocket(emu, r.json!.value);
    const sessionId = s.events[0].session.id;
    assert.equal(s.events[0].session.audio.output.language, "fr");
    // Per-session queues come first (callId = the session id, as for Realtime sockets).
    emu.control.queueTranscripts(["Hello there."], sessionId);
    emu.control.queueTranslations("fr", ["Bonjour."], sessionId);
    emu.control.queueTranslations("fr", ["Encore."]);
    append(s, new Int16Array([...silence(600), ...tone(1200), ...silence(2000), ...tone(800)]));
    append(s, silence(2200));
    await s.waitFor(OUT, (e) => e.delta === " Encore.", 5000);
    await s.waitFor(IN, (e) => e.delta.includes("[speech"), 5000);
    // The second stretch: no per-session text left, the global queue is next.
    assert.equal(text(s.events, OUT), "Bonjour. Encore.");
    const source = text(s.events, IN);
    const m = source.match(/^Hello there\. \[speech (\d\.\d) s\]$/);
    assert.ok(m, source);
    assert.ok(Math.abs(Number(m[1]) - 0.8) <= 0.2, m[1]);
    // Source text is not delayed: it ends before the translation of the same stretch.
    const firstIn = s.events.filter((e) => e.type === IN)[0];
    const firstOut = s.events.filter((e) => e.type === OUT)[0];
    assert.ok(firstIn.elapsed_ms < firstOut.elapsed_ms);
    await s.close();
  } finally {
    await emu.close();
  }
});

Deno.test("translation socket: delay 0 and silent output audio", async () => {
  const emu = await startTestEmulator({ translationDelayMs: 0, translationOutputAudio: "silence" });
  try {
    const s = await translationSocket(emu);
    append(s, new Int16Array([...silence(400), ...tone(1000), ...silence(1200)]));
    const out = await s.waitFor(OUT, () => true, 5000);
    assert.match(out.delta, /^\[en · speech 1\.\d s\]$/);
    // Speech ends at 1400 ms; its end is known after the 500 ms segment silence.
    assert.ok(out.elapsed_ms >= 1400 + SEGMENT_SILENCE_MS - VAD_TOLERANCE_MS, `${out.elapsed_ms}`);
    const audio = s.events.filter((e) => e.type === AUDIO);
    assert.ok(audio.length >= 4);
    assert.ok(audio.every((a) => base64ToPcm16(a.delta).every((v) => v === 0)));
    assert.ok(audio[0].elapsed_ms >= 400 && audio[0].elapsed_ms <= 400 + FRAME_MS * 2);
    await s.close();
  } finally {
    await emu.close();
  }
});

Deno.test("translation socket: handshakes", async () => {
  const emu = await startTestEmulator();
  try {
    const outcomes: [string, Record<string, string>, number, string | null][] = [
      ["model=gpt-realtime-translate", {}, 3000, "invalid_api_key"],
      ["", { Authorization: `Bearer ${emu.apiKey}` }, 4000, "missing_model"],
      ["model=gpt-realtime", { Authorization: `Bearer ${emu.apiKey}` }, 4000, "invalid_model"],
      [
        "model=gpt-realtime-translate&intent=transcription",
        { Authorization: `Bearer ${emu.apiKey}` },
        4000,
        "unknown_parameter",
      ],
      [
        "model=gpt-realtime-translate",
        { Authorization: `Bearer ${emu.apiKey}`, "OpenAI-Beta": "realtime=v1" },
        4000,
        "beta_api_shape_disabled",
      ],
    ];
    for (const [query, headers, code, error] of outcomes) {
      const s = new EventSocket(url(emu, query), { headers });
      const closed = await s.closed;
      assert.equal(closed.code, code, query);
      assert.equal(s.events[0].type, "error");
      assert.equal(s.events[0].error.code, error, query);
    }
    // A Realtime secret cannot open a translation session.
    const rt = await post(emu, "/v1/realtime/client_secrets", {
      session: { type: "transcription" },
    });
    const wrong = new EventSocket(url(emu), {
      headers: { Authorization: `Bearer ${rt.json!.value}` },
    });
    assert.equal((await wrong.closed).code, 4000);
    // Browser-style key subprotocol, `realtime` selected.
    const sub = new EventSocket(url(emu), {
      protocols: ["realtime", `openai-insecure-api-key.${emu.apiKey}`],
    });
    await sub.opened;
    assert.equal(sub.ws.protocol, "realtime");
    await sub.waitFor("session.created");
    await sub.close();
    // Not an upgrade at all.
    const plain = await fetch(url(emu).replace(/^ws/, "http"));
    assert.equal(plain.status, 400);
    assert.match(plain.headers.get("x-request-id")!, /^req_[0-9a-f]{32}$/);
    await plain.body?.cancel();
  } finally {
    await emu.close();
  }
});

Deno.test("translation socket: client-event errors go to the sender and change nothing", async () => {
  const emu = await startTestEmulator();
  try {
    const s = await translationSocket(emu);
    s.send({ type: "input_audio_buffer.append", audio: "AAAA", event_id: "e1" });
    s.ws.send("{not json");
    s.ws.send(new Uint8Array([1, 2, 3]));
    s.send({ type: "session.input_audio_buffer.append" });
    s.send({ type: "session.input_audio_buffer.append", audio: "AA==" });
    s.send({ type: "session.update" });
    s.send({ type: "session.update", session: {}, extra: 1 });
    s.send({ type: "session.update", session: { type: "translation" } });
    s.send({ type: "session.update", session: { audio: { output: { language: "nl" } } } });
    s.send({ type: "response.create" });
    s.send({ type: "session.update", event_id: "last", session: {} });
    await s.waitFor("session.updated");
    const errors = s.events.filter((e) => e.type === "error").map((e) => e.error);
    assert.deepEqual(errors.map((e) => [e.code, e.param]), [
      ["invalid_value", "type"],
      ["invalid_json", null],
      ["invalid_event", null],
      ["missing_required_parameter", "audio"],
      ["invalid_value", "audio"],
      ["missing_required_parameter", "session"],
      ["unknown_parameter", "extra"],
      ["unknown_parameter", "session.type"],
      ["invalid_value", "session.audio.output.language"],
      ["invalid_value", "type"],
    ]);
    assert.equal(errors[0].event_id, "e1");
    const updated = s.events.find((e) => e.type === "session.updated")!;
    assert.deepEqual(updated.session.audio.output, { language: "en" });
    await s.close();
  } finally {
    await emu.close();
  }
});

Deno.test("translation socket: session expiry → session_expired, close 1001", async () => {
  const emu = await startTestEmulator({ sessionMaxSeconds: 1 });
  try {
    const s = await translationSocket(emu);
    const closed = await s.closed;
    assert.equal(closed.code, 1001);
    assert.equal(closed.reason, "invalid_request_error.session_expired");
    const err = s.events.find((e) => e.type === "error")!;
    assert.equal(err.error.code, "session_expired");
    assert.match(err.error.message, /maximum duration of 1 seconds/);
  } finally {
    await emu.close();
  }
});

Deno.test("control API: translated texts are queued per language, validated", async () => {
  const emu = await startTestEmulator();
  try {
    const bad = await post(emu, "/_emulator/transcripts", { texts: ["x"], language: 5 });
    assert.equal(bad.status, 400);
    assert.equal(bad.json!.error.code, "invalid_type");
    assert.equal(bad.json!.error.param, "language");
    const ok = await post(emu, "/_emulator/transcripts", {
      texts: ["Hola."],
      language: "es",
      callId: "rtc_x",
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json!.queued.languages, {
      es: { global: [], perCall: { rtc_x: ["Hola."] } },
    });
    // The source-transcript queue is separate.
    assert.deepEqual(ok.json!.queued.global, []);
    await post(emu, "/_emulator/reset");
    const after = await (await fetch(`${emu.baseUrl}/_emulator/transcripts`)).json();
    assert.deepEqual(after.languages, {});
  } finally {
    await emu.close();
  }
});
