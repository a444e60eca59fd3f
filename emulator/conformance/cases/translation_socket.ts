/**
 * The Translation WebSocket `/v1/realtime/translations?model=gpt-realtime-translate` (protocol
 * reference "Update, 2026-11" and "2026-12"; the `openai` package's translation events):
 * handshake outcomes and auth variants, client-event errors, and espeak-ng speech appended as
 * base64 24 kHz PCM16: deltas with `elapsed_ms`, translated audio, `session.close`. What the
 * emulator makes of the speech (queued text, placeholders, timing against the WAV) is checked
 * against the emulator only.
 *
 * @module
 */
import { TRANSLATION_MODEL } from "../../../lib/translation_languages.ts";
import { base64ToPcm16 } from "../../audio.ts";
import { appendAudio, deltaText, type Ev, type EventSocket } from "../../testkit.ts";
import { SEGMENT_SILENCE_MS } from "../../translation_engine.ts";
import type { CaseContext } from "../context.ts";
import { TRANSLATION_UNLISTED_LANGUAGES } from "../questions.ts";
import type { Case } from "../types.ts";
import { mintTranslation, translationSession } from "./translation_secrets.ts";

const PATH = "/v1/realtime/translations";
const QUERY = `model=${TRANSLATION_MODEL}`;
const OUT = "session.output_transcript.delta";
const IN = "session.input_transcript.delta";
const AUDIO = "session.output_audio.delta";
/** The emulator's VAD finds speech within this of the WAV's true region (as for transcription). */
const VAD_TOLERANCE_MS = 100;
/** Translation input is consumed in 200 ms frames; `elapsed_ms` advances in these steps. */
const FRAME_MS = 200;

/** Opens a translation socket with the standard key (or `init`) and waits for session.created. */
async function translationSocket(
  ctx: CaseContext,
  init?: { headers?: Record<string, string>; protocols?: string[] },
): Promise<{ s: EventSocket; created: Ev }> {
  const s = ctx.socket(QUERY, init, PATH);
  await s.opened;
  return { s, created: await ctx.wait(s, "session.created") };
}

/** Handshake outcomes: what, query, headers, expected `close-code error-code`. */
function handshakes(key: string): [string, string, Record<string, string>, string][] {
  const auth = { Authorization: `Bearer ${key}` };
  return [
    ["no key", QUERY, {}, "3000 invalid_api_key"],
    ["no model", "", auth, "4000 missing_model"],
    ["a Realtime model", "model=gpt-realtime", auth, "4000 invalid_model"],
    ["intent as well", `${QUERY}&intent=transcription`, auth, "4000 unknown_parameter"],
    [
      "OpenAI-Beta",
      QUERY,
      { ...auth, "OpenAI-Beta": "realtime=v1" },
      "4000 beta_api_shape_disabled",
    ],
  ];
}

export const TRANSLATION_SOCKET_CASES: readonly Case[] = [
  {
    id: "translation.socket.handshakes",
    title:
      "Bad key 3000; missing or wrong model, intent, OpenAI-Beta 4000; a translation ek_; subprotocol auth",
    source: "2026-11 update [SDK]; outcomes as /v1/realtime §4.3 [INFER]",
    async run(ctx) {
      for (const [what, query, headers, expected] of handshakes(ctx.target.apiKey)) {
        const s = ctx.socket(query, { headers }, PATH);
        const closed = await s.closed;
        ctx.check(
          `${what}: close and the error first`,
          expected,
          `${closed.code} ${s.events[0]?.type === "error" ? s.events[0]?.error?.code : "no error"}`,
        );
      }
      const realtime = await ctx.mint({ type: "transcription" });
      const wrong = ctx.socket(QUERY, {
        headers: { Authorization: `Bearer ${realtime.json?.value}` },
      }, PATH);
      ctx.check("a Realtime ek_: close", 4000, (await wrong.closed).code);

      const secret = await mintTranslation(
        ctx,
        translationSession("fr", { transcription: { model: "gpt-realtime-whisper" } }),
      );
      const byEk = await translationSocket(ctx, {
        headers: { Authorization: `Bearer ${secret.json?.value}` },
      });
      ctx.check("a translation ek_ opens the socket with its session", {
        language: "fr",
        transcription: "gpt-realtime-whisper",
      }, {
        language: byEk.created.session?.audio?.output?.language,
        transcription: byEk.created.session?.audio?.input?.transcription?.model,
      }, { source: "2026-11 update [SDK: the secret's session]" });

      const sub = ctx.socket(QUERY, {
        protocols: ["realtime", `openai-insecure-api-key.${ctx.target.apiKey}`],
      }, PATH);
      await sub.opened;
      ctx.check("subprotocol auth: the server selects realtime", "realtime", sub.ws.protocol, {
        source: "§4.2 [SDK openai-node websocket.ts]",
      });
      const created = await ctx.wait(sub, "session.created");
      ctx.check("… first event session.created", true, sub.events[0] === created);

      const plain = await ctx.request(`${PATH}?${QUERY}`);
      ctx.emulatorOnly("a GET without an upgrade", 400, plain.status);
      ctx.match("… with x-request-id", /^req_/, plain.headers.get("x-request-id"), "openai SDK");
    },
  },
  {
    id: "translation.socket.client_errors",
    title: "Client-event errors go to the sender with the client's event_id and change nothing",
    source: "2026-11 update [SDK: three client events]; errors as §6.5 [INFER]",
    async run(ctx) {
      const { s, created } = await translationSocket(ctx);
      s.send({ type: "input_audio_buffer.append", audio: "AAAA", event_id: "e1" });
      s.ws.send("{not json");
      s.ws.send(new Uint8Array([1, 2, 3]));
      s.send({ type: "session.input_audio_buffer.append" });
      s.send({ type: "session.input_audio_buffer.append", audio: "AA==" });
      s.send({ type: "session.update" });
      s.send({ type: "session.update", session: {}, extra: 1 });
      s.send({ type: "session.update", session: { type: "translation" } });
      s.send({ type: "response.create" });
      s.send({ type: "session.update", event_id: "last", session: {} });
      const updated = await ctx.wait(s, "session.updated");
      const errors = s.events.filter((e) => e.type === "error").map((e) => e.error);
      ctx.check("the errors (code param), in order", [
        "invalid_value type",
        "invalid_json null",
        "invalid_event null",
        "missing_required_parameter audio",
        "invalid_value audio",
        "missing_required_parameter session",
        "unknown_parameter extra",
        "unknown_parameter session.type",
        "invalid_value type",
      ], errors.map((e) => `${e.code} ${e.param}`));
      ctx.check("the first echoes its event_id", "e1", errors[0]?.event_id, {
        source: "§6.5 [LIVE, for Realtime]",
      });
      ctx.check(
        "the session is unchanged",
        created.session?.audio?.output,
        updated.session?.audio?.output,
      );
      const refuses = (ctx.target.emulator?.control.state.options.translationLanguages ??
        "listed") === "listed";
      const nl = await ctx.answerTo(s, { audio: { output: { language: "nl" } } });
      ctx.question(
        TRANSLATION_UNLISTED_LANGUAGES,
        "session.update to 'nl' on the socket",
        refuses ? "error invalid_value session.audio.output.language" : "session.updated",
        nl.type === "error" ? `error ${nl.error?.code} ${nl.error?.param}` : nl.type,
      );
    },
  },
  {
    id: "translation.socket.speech",
    title:
      "Two espeak-ng sentences in irregular chunks: deltas with elapsed_ms, translated audio, session.close → closed → 1000",
    source: "2026-11 update [SDK translation events]",
    liveAudio: [{ model: TRANSLATION_MODEL, seconds: 12 }],
    async run(ctx) {
      const sentences = ["Good morning everyone and welcome.", "Thank you for coming today."];
      const { wav, pcm } = await ctx.utterances(sentences, 2, { startSec: 1, endSec: 3 });
      const [u1, u2] = wav.utterances;
      const delay = ctx.target.emulator?.control.state.options.translationDelayMs ?? 0;
      const { s, created } = await translationSocket(ctx);
      ctx.check("session.type", "translation", created.session?.type);
      ctx.check("session.model", TRANSLATION_MODEL, created.session?.model);
      ctx.check(
        "no input transcription or noise reduction unless asked",
        { noise_reduction: null, transcription: null },
        created.session?.audio?.input,
      );
      const updated = await ctx.answerTo(s, { audio: { output: { language: "es" } } });
      ctx.check("session.update of the language", "es", updated.session?.audio?.output?.language, {
        source: "2026-12 update [DOC]",
      });
      ctx.check("… the same session", created.session?.id, updated.session?.id);

      // One Spanish text for this session (and a German one that must stay untouched): the
      // first sentence gets it, the second the placeholder.
      const sessionId = created.session?.id as string;
      const spanish = "Buenos días a todos y bienvenidos.";
      ctx.queueTranslations("es", [spanish], sessionId);
      ctx.queueTranslations("de", ["Guten Morgen."], sessionId);
      // Irregular chunks: the server consumes them in 200 ms frames.
      appendAudio(s, pcm, 130, "session.input_audio_buffer.append");
      s.send({ type: "session.close" });
      const closed = await s.waitFor("session.closed", () => true, ctx.live ? 60_000 : 10_000)
        .catch(() => null);
      ctx.check("session.close → session.closed", true, closed !== null);
      const close = await s.closed;
      ctx.check("then the socket closes", 1000, close.code, { source: "[INFER]" });

      const deltas = s.events.filter((e) => e.type === OUT || e.type === IN);
      const audio = s.events.filter((e) => e.type === AUDIO);
      const out = s.events.filter((e) => e.type === OUT);
      ctx.check("translated text arrives", true, out.length > 0);
      ctx.check(
        "text deltas: elapsed_ms in 200 ms steps",
        [],
        deltas.map((e) => e.elapsed_ms).filter((ms) => typeof ms !== "number" || ms % FRAME_MS),
        { source: "2026-11 update [SDK: advances in 200 ms increments]" },
      );
      ctx.check(
        "audio deltas: elapsed_ms in 200 ms steps",
        [],
        audio.map((e) => e.elapsed_ms).filter((ms) => typeof ms !== "number" || ms % FRAME_MS),
        { source: "[INFER: the same frames]" },
      );
      const all = [...deltas, ...audio].sort((a, b) => s.events.indexOf(a) - s.events.indexOf(b));
      ctx.check("every event_id is event_…", true, all.every((e) => /^event_/.test(e.event_id)));
      const elapsed = all.map((e) => e.elapsed_ms);
      ctx.check("elapsed_ms never goes back", [...elapsed].sort((a, b) => a - b), elapsed, {
        source: "[INFER: alignment metadata of one stream]",
      });
      ctx.check(
        "no source text without input transcription",
        0,
        s.events.filter((e) => e.type === IN).length,
        { source: "2026-12 update [DOC: only when input transcription is configured]" },
      );

      const whole = deltaText(s.events, OUT);
      const m = whole.match(/^(.*) \[es · speech (\d+\.\d) s\]$/);
      ctx.emulatorOnly(
        "the text: the queued one, then the placeholder",
        `${spanish} [es · speech N.N s]`,
        whole,
        m?.[1] === spanish,
      );
      // The placeholder's duration is the second sentence's, as the VAD measured it.
      const spoken = (u2.speechEndMs - u2.speechStartMs) / 1000;
      ctx.emulatorOnly(
        "the placeholder's duration",
        `${spoken} ± 0.3 s`,
        m?.[2] ?? null,
        !!m && Math.abs(Number(m[2]) - spoken) <= 0.3,
      );
      ctx.emulatorOnly(
        "the queued text streams word by word",
        ">= 6 deltas",
        out.length,
        out.length >= 6,
      );

      // elapsed_ms ties each delta to its source: the first sentence's text starts after its
      // speech starts (+ the lag) and ends once it is over (+ lag, + the silence that ends it).
      const first = out.filter((e) => !e.delta.includes("[es"));
      const last = out.at(-1);
      const late = delay + SEGMENT_SILENCE_MS + FRAME_MS + VAD_TOLERANCE_MS;
      const start = first[0]?.elapsed_ms;
      const end = first.at(-1)?.elapsed_ms;
      const windows: [string, number | undefined, boolean][] = [
        [
          "the first text starts after its speech (+ lag)",
          start,
          start >= u1.speechStartMs + delay - VAD_TOLERANCE_MS,
        ],
        ["… ends in time", end, end <= u1.speechEndMs + late],
        [
          "… not before its speech ends (+ lag)",
          end,
          end >= u1.speechEndMs + delay - VAD_TOLERANCE_MS,
        ],
        ["… before the next sentence (+ lag)", end, end < u2.speechStartMs + delay],
        [
          "the last text after the second sentence ends (+ lag)",
          last?.elapsed_ms,
          last?.elapsed_ms >= u2.speechEndMs + delay - VAD_TOLERANCE_MS,
        ],
        ["… in time", last?.elapsed_ms, last?.elapsed_ms <= u2.speechEndMs + late],
      ];
      for (const [what, ms, ok] of windows) {
        ctx.emulatorOnly(`elapsed_ms: ${what}`, "inside the window", ms ?? null, ok);
      }

      // Translated "speech": PCM16 24 kHz mono, over each sentence's span shifted by the lag.
      ctx.check("translated audio arrives", true, audio.length > 0);
      ctx.check(
        "audio deltas: format, sample_rate, channels",
        ["pcm16 24000 1"],
        [...new Set(audio.map((a) => `${a.format} ${a.sample_rate} ${a.channels}`))],
        { source: "2026-11 update [SDK fields; 24 kHz PCM16 mono]" },
      );
      let voiced = 0;
      const outside: number[] = [];
      const sizes = new Set<number>();
      for (const a of audio) {
        const samples = base64ToPcm16(a.delta);
        sizes.add(samples.length);
        const from = a.elapsed_ms - FRAME_MS;
        const inside = wav.utterances.some((u) =>
          from < u.speechEndMs + delay + FRAME_MS + VAD_TOLERANCE_MS + 200 &&
          a.elapsed_ms > u.speechStartMs + delay - VAD_TOLERANCE_MS
        );
        if (!inside) outside.push(a.elapsed_ms);
        if (samples.some((v) => Math.abs(v) > 1000)) voiced++;
      }
      ctx.emulatorOnly("audio deltas: one 200 ms frame each", [24 * FRAME_MS], [...sizes]);
      ctx.emulatorOnly("audio only over the delayed sentences", [], outside);
      const spans = wav.utterances.reduce((ms, u) => ms + u.speechEndMs - u.speechStartMs, 0);
      ctx.emulatorOnly(
        "voiced audio as long as the speech",
        `${spans} ± ${4 * FRAME_MS} ms`,
        voiced * FRAME_MS,
        Math.abs(voiced * FRAME_MS - spans) <= 4 * FRAME_MS,
      );

      const control = ctx.target.emulator?.control;
      if (control) {
        const queued = (await ctx.request("/_emulator/transcripts")).json?.languages;
        ctx.emulatorOnly("the German text is still queued, the Spanish one used", {
          de: ["Guten Morgen."],
          es: [],
        }, { de: queued?.de?.perCall[sessionId], es: queued?.es?.perCall[sessionId] });
        const call = control.calls().find((c) => c.id === sessionId);
        ctx.emulatorOnly(
          "the session (api kind segments reason)",
          "translation websocket 2 session.close",
          `${call?.api} ${call?.kind} ${call?.utterances} ${call?.endedReason}`,
        );
      }
    },
  },
];
