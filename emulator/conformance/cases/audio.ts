/**
 * `?intent=transcription` sessions fed with espeak-ng speech (protocol reference §5.3, §6.2–6.4):
 * the canonical event order, item linking, per-model deltas, usage and logprobs, streaming models,
 * manual commits, a session without transcription, and `conversation.item.retrieve`.
 *
 * @module
 */
import { MODELS } from "../../../lib/models.ts";
import type { Ev, EventSocket } from "../../testkit.ts";
import { type CaseContext, EMULATOR_DESIGN, wordRecall } from "../context.ts";
import { LIVE_TRANSCRIBE_SPEECH_EVENTS, LOGPROBS_CURRENT } from "../questions.ts";
import type { Case } from "../types.ts";

const DELTA = "conversation.item.input_audio_transcription.delta";
const COMPLETED = "conversation.item.input_audio_transcription.completed";
const LOGPROBS = "item.input_audio_transcription.logprobs";
const SENTENCE = "Testing the realtime emulator with real speech.";

/** The events of one server-VAD turn, deltas left out (§6.3). */
export const VAD_TURN: readonly string[] = [
  "input_audio_buffer.speech_started",
  "input_audio_buffer.speech_stopped",
  "input_audio_buffer.committed",
  "conversation.item.added",
  "conversation.item.done",
  COMPLETED,
];

/** The transcription session of `model` (no turn detection for the models without it). */
export function sessionFor(model: string, extra: Ev = {}, include = false): Ev {
  const vad = MODELS.find((m) => m.id === model)?.supports.turnDetection ?? true;
  return {
    type: "transcription",
    audio: {
      input: { transcription: { model, ...extra }, ...(vad ? {} : { turn_detection: null }) },
    },
    ...(include ? { include: [LOGPROBS] } : {}),
  };
}

/** The event types of one item, in order. */
function itemEvents(s: EventSocket, item: string): string[] {
  return s.events.filter((e) => e.item_id === item || e.item?.id === item).map((e) => e.type);
}

/** Checks that a transcript is the spoken text: exact against the emulator (queued), most words live. */
function heard(ctx: CaseContext, what: string, spoken: string, transcript: unknown): void {
  const text = typeof transcript === "string" ? transcript : "";
  if (ctx.live) {
    ctx.check(what, "≥ 60 % of the spoken words", text, {
      ok: wordRecall(spoken, text) >= 0.6,
      source: "espeak-ng speech of a known text",
    });
  } else ctx.check(what, spoken, transcript, { source: `${EMULATOR_DESIGN}: the queued text` });
}

/** Appends audio at real-time pace (100 ms per 100 ms chunk), for models that stream while it plays. */
async function appendPaced(ctx: CaseContext, s: EventSocket, pcm: Int16Array): Promise<void> {
  const chunk = 2400;
  const start = performance.now();
  for (let i = 0, n = 0; i < pcm.length; i += chunk, n++) {
    ctx.append(s, pcm.subarray(i, Math.min(i + chunk, pcm.length)));
    const due = start + (n + 1) * 100 - performance.now();
    if (due > 0) await new Promise((r) => setTimeout(r, due));
  }
}

export const AUDIO_CASES: readonly Case[] = [
  {
    id: "audio.vad_turn",
    title: "One spoken sentence with server VAD: the canonical sequence of one item",
    source: "§6.3 [LIVE capture; forum 1371205]",
    liveAudio: [{ model: "gpt-transcribe", seconds: 5 }],
    async run(ctx) {
      const { wav, pcm } = await ctx.speech(SENTENCE, { padStartSec: 1, padEndSec: 1.5 });
      const s = await ctx.transcriptionSocket(sessionFor("gpt-transcribe"));
      const created = s.events.find((e) => e.type === "session.created")!;
      const silenceMs = created.session.audio.input.turn_detection?.silence_duration_ms;
      ctx.check("default silence_duration_ms", 200, silenceMs, {
        source: "§5.1 [LIVE: 200; docs 500]",
      });
      ctx.queue([SENTENCE]);
      ctx.append(s, pcm);
      const done = await ctx.wait(s, COMPLETED);
      const started = s.events.find((e) => e.type === "input_audio_buffer.speech_started");
      const stopped = s.events.find((e) => e.type === "input_audio_buffer.speech_stopped");
      const seq = itemEvents(s, done.item_id);
      ctx.check("the item's events (deltas left out)", VAD_TURN, seq.filter((t) => t !== DELTA));
      ctx.check(
        "deltas after item.done, before completed",
        true,
        seq.indexOf(DELTA) > seq.indexOf("conversation.item.done") &&
          seq.lastIndexOf(DELTA) < seq.indexOf(COMPLETED),
        { source: "§6.4 [LIVE]" },
      );
      const deltas = s.events.filter((e) => e.type === DELTA);
      ctx.check(
        "deltas concatenate to the transcript",
        done.transcript,
        deltas.map((e) => e.delta).join(""),
        {
          source: "§6.4 [DOC, 4o-style models]",
        },
      );
      heard(ctx, "transcript", SENTENCE, done.transcript);
      ctx.emulatorOnly("word-sized deltas", "more than 3", deltas.length, deltas.length > 3);
      const committed = s.events.find((e) => e.type === "input_audio_buffer.committed");
      ctx.check("first item: previous_item_id", null, committed?.previous_item_id, {
        source: "§6.2 [SDK]",
      });
      const added = s.events.find((e) => e.type === "conversation.item.added");
      ctx.check(
        "item.added content",
        [{ type: "input_audio", transcript: null }],
        added?.item?.content,
        {
          source: "§6.2 [LIVE]",
        },
      );
      ctx.check("usage: tokens, total = input + output", "tokens, consistent", done.usage, {
        ok: done.usage?.type === "tokens" &&
          done.usage.total_tokens === done.usage.input_tokens + done.usage.output_tokens,
        source: "§6.2 [LIVE]",
      });
      ctx.check("content_index", 0, done.content_index);
      ctx.check("no logprobs without include", undefined, done.logprobs, { source: "§5.1 [SDK]" });
      ctx.emulatorOnly(
        "speech start (audio_start_ms + 300 ms padding) within ±100 ms of the WAV's",
        wav.speechStartMs,
        started?.audio_start_ms + 300,
        Math.abs(started?.audio_start_ms + 300 - wav.speechStartMs) <= 100,
      );
      ctx.emulatorOnly(
        "speech end (audio_end_ms − silence_duration_ms) within ±100 ms of the WAV's",
        wav.speechEndMs,
        stopped?.audio_end_ms - silenceMs,
        Math.abs(stopped?.audio_end_ms - silenceMs - wav.speechEndMs) <= 100,
      );
    },
  },
  {
    id: "audio.two_turns",
    title:
      "Two utterances: two items linked by previous_item_id, each item's deltas before its completed",
    source: "§6.4 [DOC]",
    liveAudio: [{ model: "gpt-4o-mini-transcribe", seconds: 7 }],
    async run(ctx) {
      const texts = ["First sentence here.", "And the second one."];
      const { pcm } = await ctx.utterances(texts);
      const s = await ctx.transcriptionSocket(sessionFor("gpt-4o-mini-transcribe"));
      ctx.queue(texts);
      ctx.append(s, pcm);
      const deadline = Date.now() + ctx.timeoutMs * 2;
      while (s.events.filter((e) => e.type === COMPLETED).length < 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const commits = s.events.filter((e) => e.type === "input_audio_buffer.committed");
      ctx.check("two commits", 2, commits.length);
      ctx.check("the second links to the first", commits[0]?.item_id, commits[1]?.previous_item_id);
      const completed = s.events.filter((e) => e.type === COMPLETED);
      ctx.check(
        "a completed per item",
        commits.map((c) => c.item_id).sort(),
        completed.map((e) => e.item_id).sort(),
        {
          source: "§6.4 [DOC: order across items not guaranteed]",
        },
      );
      for (const [i, c] of commits.entries()) {
        const seq = itemEvents(s, c.item_id);
        ctx.check(
          `item ${i + 1}: deltas before completed`,
          true,
          seq.lastIndexOf(DELTA) < seq.indexOf(COMPLETED),
        );
        heard(
          ctx,
          `item ${i + 1}: transcript`,
          texts[i],
          completed.find((e) => e.item_id === c.item_id)?.transcript,
        );
      }
    },
  },
  {
    id: "audio.manual_commit",
    title:
      "turn_detection null: the client commits, no speech events; VAD on + a mid-speech commit",
    source: "§6.3 [DOC]",
    liveAudio: [{ model: "gpt-4o-transcribe", seconds: 8 }],
    async run(ctx) {
      const { pcm } = await ctx.speech("Commit this turn by hand.", {
        padStartSec: 0.3,
        padEndSec: 0.3,
      });
      const s = await ctx.transcriptionSocket({
        type: "transcription",
        audio: { input: { transcription: { model: "gpt-4o-transcribe" }, turn_detection: null } },
      });
      ctx.append(s, pcm);
      s.send({ type: "input_audio_buffer.commit" });
      const c = await ctx.wait(s, "input_audio_buffer.committed");
      ctx.match("the commit names an item", /^item_/, c.item_id);
      await ctx.wait(s, COMPLETED);
      ctx.check("no speech events", false, s.types().includes("input_audio_buffer.speech_started"));

      const long = await ctx.speech(
        "This sentence is committed while it is still being spoken aloud.",
        {
          padStartSec: 0.5,
          padEndSec: 1.5,
        },
      );
      const v = await ctx.transcriptionSocket(sessionFor("gpt-4o-transcribe"));
      const half = Math.round(long.pcm.length * 0.55);
      ctx.append(v, long.pcm.subarray(0, half));
      const started = await ctx.wait(v, "input_audio_buffer.speech_started");
      v.send({ type: "input_audio_buffer.commit" });
      const committed = await ctx.wait(v, "input_audio_buffer.committed");
      ctx.check("the commit takes the speaking item", started.item_id, committed.item_id);
      ctx.append(v, long.pcm.subarray(half));
      await ctx.wait(v, COMPLETED, (e) => e.item_id === committed.item_id);
      await new Promise((r) => setTimeout(r, ctx.live ? 1500 : 50));
      ctx.check(
        "its speech_stopped is skipped",
        false,
        v.events.some((e) =>
          e.type === "input_audio_buffer.speech_stopped" && e.item_id === committed.item_id
        ),
      );
      ctx.emulatorOnly(
        "the rest of that speech starts no new item",
        1,
        v.types().filter((t) => t === "input_audio_buffer.committed").length,
      );
    },
  },
  {
    id: "audio.models",
    title: "Every model, with and without logprobs: deltas, usage shape, logprobs, languages",
    source: "§5.3",
    liveAudio: MODELS.flatMap((
      m,
    ) => [{ model: m.id, seconds: 3.5 }, { model: m.id, seconds: 3.5 }]),
    async run(ctx) {
      const text = "Models speak here.";
      const { pcm } = await ctx.speech(text, { padStartSec: 0.5, padEndSec: 1.2 });
      const omitted = ctx.target.emulator?.control.models.omitLogprobs ?? [];
      for (const m of MODELS) {
        for (const include of [false, true]) {
          const what = `${m.id}${include ? " +logprobs" : ""}`;
          const s = await ctx.transcriptionSocket(sessionFor(m.id, {}, include));
          ctx.queue([text], s.events[0].session.id);
          ctx.append(s, pcm);
          if (!m.supports.turnDetection) s.send({ type: "input_audio_buffer.commit" });
          const done = await ctx.wait(s, COMPLETED);
          const deltas = s.events.filter((e) => e.type === DELTA);
          heard(ctx, `${what}: transcript`, text, done.transcript);
          ctx.check(
            `${what}: deltas concatenate to the transcript`,
            done.transcript,
            deltas.map((e) => e.delta).join(""),
            {
              source: "§6.4 [DOC]",
            },
          );
          ctx.check(
            `${what}: every delta is the item's`,
            true,
            deltas.every((e) => e.item_id === done.item_id),
          );
          if (m.id === "whisper-1") {
            ctx.check(`${what}: one delta, the whole transcript`, 1, deltas.length, {
              source: "§5.3 [DOC]",
            });
            ctx.check(`${what}: usage`, "duration, seconds > 0", done.usage, {
              ok: done.usage?.type === "duration" && done.usage.seconds > 0,
              source: "§5.3 [INFER]",
            });
          } else {
            ctx.emulatorOnly(
              `${what}: several deltas`,
              "more than 1",
              deltas.length,
              deltas.length > 1,
            );
            ctx.check(`${what}: usage tokens`, "tokens, total = input + output", done.usage, {
              ok: done.usage?.type === "tokens" &&
                done.usage.total_tokens === done.usage.input_tokens + done.usage.output_tokens,
              source: "§6.2 [LIVE]",
            });
          }
          const got = Array.isArray(done.logprobs) &&
            deltas.every((e) => Array.isArray(e.logprobs));
          if (!include) {
            ctx.check(`${what}: no logprobs`, false, Array.isArray(done.logprobs), {
              source: "§5.1 [SDK]",
            });
          } else if (m.status === "current") {
            ctx.question(
              LOGPROBS_CURRENT,
              `${m.id}: logprobs on completed and deltas`,
              !omitted.includes(m.id),
              got,
            );
          } else {
            const want = m.id !== "whisper-1" && m.id !== "gpt-4o-transcribe-diarize";
            ctx.check(`${what}: logprobs`, want, got, { source: "§5.3 [DOC]" });
          }
          if (got && include) {
            const lp = done.logprobs[0];
            ctx.check(`${what}: logprob entry shape`, "token, logprob < 0, UTF-8 bytes", lp, {
              ok: typeof lp?.token === "string" && lp.logprob <= 0 && Array.isArray(lp.bytes),
              source: "§6.2 [SDK]",
            });
          }
          const languages = m.id === "gpt-transcribe" || m.id === "gpt-live-transcribe";
          ctx.emulatorOnly(
            `${what}: completed.languages`,
            languages,
            Array.isArray(done.languages),
          );
        }
      }
    },
  },
  {
    id: "audio.streaming",
    title: "Models without turn detection stream while the person speaks; the commit ends the turn",
    source: "2026-12 update [DOC realtime-transcription guide]; §5.3",
    liveAudio: [{ model: "gpt-realtime-whisper", seconds: 5 }, {
      model: "gpt-live-transcribe",
      seconds: 5,
    }],
    async run(ctx) {
      const text = "One two three four five six seven eight.";
      const { pcm } = await ctx.speech(text, { padStartSec: 0.3, padEndSec: 0.5 });
      for (
        const [model, extra] of [["gpt-realtime-whisper", { delay: "low" }], [
          "gpt-live-transcribe",
          {},
        ]] as const
      ) {
        const s = await ctx.transcriptionSocket(sessionFor(model, extra));
        ctx.queue([text], s.events[0].session.id);
        await appendPaced(ctx, s, pcm.subarray(0, Math.round(pcm.length * 0.8)));
        const first = await ctx.wait(s, DELTA).catch(() => null);
        ctx.check(
          `${model}: a delta before the commit`,
          true,
          first !== null && !s.types().includes("input_audio_buffer.committed"),
        );
        ctx.append(s, pcm.subarray(Math.round(pcm.length * 0.8)));
        s.send({ type: "input_audio_buffer.commit" });
        const done = await ctx.wait(s, COMPLETED);
        heard(ctx, `${model}: transcript`, text, done.transcript);
        const deltas = s.events.filter((e) => e.type === DELTA);
        ctx.check(
          `${model}: deltas concatenate to the transcript`,
          done.transcript,
          deltas.map((e) => e.delta).join(""),
        );
        const speech = s.types().includes("input_audio_buffer.speech_started");
        s.send({
          type: "session.update",
          session: {
            type: "transcription",
            audio: { input: { turn_detection: { type: "server_vad" } } },
          },
        });
        const refused = await ctx.wait(s, "error");
        ctx.check(
          `${model}: server VAD refused later too`,
          "invalid_value session.audio.input.turn_detection",
          `${refused.error.code} ${refused.error.param}`,
          {
            source: "2026-12 update [DOC; LIVE body]",
          },
        );
        ctx.check(
          `${model}: … with the live text`,
          "Turn detection is not supported for this transcription model.",
          refused.error.message,
          {
            source: "2026-12 update [LIVE]",
          },
        );
        if (model === "gpt-live-transcribe") {
          const assumed = ctx.target.emulator?.control.state.options.liveTranscribeSpeechEvents ??
            false;
          ctx.question(LIVE_TRANSCRIBE_SPEECH_EVENTS, "speech_started seen", assumed, speech);
        } else {
          ctx.check(`${model}: no speech events`, false, speech, {
            source: "2026-12 update [LIVE OpenWhispr#2077, livekit/agents#5779]",
          });
        }
      }
    },
  },
  {
    id: "audio.no_transcription",
    title: "transcription null: turns are committed, added and done; nothing is transcribed",
    source: "§5.1 [LIVE capture: transcription null by default]",
    liveAudio: [{ model: "gpt-4o-transcribe", seconds: 3 }],
    async run(ctx) {
      const { pcm } = await ctx.speech("Nobody transcribes this.", {
        padStartSec: 0.5,
        padEndSec: 1.2,
      });
      const s = await ctx.transcriptionSocket();
      ctx.check("transcription", null, s.events[0].session?.audio?.input?.transcription);
      ctx.queue(["never used"]);
      ctx.append(s, pcm);
      await ctx.wait(s, "conversation.item.done");
      await new Promise((r) => setTimeout(r, ctx.live ? 3000 : 300));
      ctx.check("events", [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
      ], s.types().slice(1));
      const queued = ctx.target.emulator?.control.state.transcripts.snapshot().global;
      ctx.emulatorOnly("the queued text is not consumed", ["never used"], queued);
      ctx.target.emulator?.control.state.transcripts.clear();
    },
  },
  {
    id: "audio.retrieve",
    title: "conversation.item.retrieve: the item with its transcript; an error for an unknown id",
    source: "openai SDK (ConversationItemRetrieveEvent, ConversationItemRetrieved)",
    liveAudio: [{ model: "gpt-live-transcribe", seconds: 3 }],
    async run(ctx) {
      const text = "Retrieve me later.";
      const { pcm } = await ctx.speech(text, { padStartSec: 0.3, padEndSec: 0.3 });
      const s = await ctx.transcriptionSocket(sessionFor("gpt-live-transcribe"));
      ctx.queue([text], s.events[0].session.id);
      ctx.append(s, pcm);
      s.send({ type: "input_audio_buffer.commit" });
      const committed = await ctx.wait(s, "input_audio_buffer.committed");
      const retrievedCount = () =>
        s.events.filter((e) => e.type === "conversation.item.retrieved").length;
      if (!ctx.live) {
        s.send({ type: "conversation.item.retrieve", item_id: committed.item_id });
        const early = await ctx.wait(s, "conversation.item.retrieved");
        ctx.emulatorOnly("before completed: no transcript yet", [{
          type: "input_audio",
          transcript: null,
        }], early.item.content);
      }
      const done = await ctx.wait(s, COMPLETED);
      const n = retrievedCount();
      s.send({ type: "conversation.item.retrieve", item_id: committed.item_id });
      const late = await ctx.wait(s, "conversation.item.retrieved", () => retrievedCount() > n);
      ctx.check(
        "the item",
        `${committed.item_id} message user`,
        `${late.item?.id} ${late.item?.type} ${late.item?.role}`,
      );
      ctx.check("object", "realtime.item", late.item?.object, {
        source: "openai SDK (ConversationItem.object)",
      });
      ctx.check("its transcript", done.transcript, late.item?.content?.[0]?.transcript);
      ctx.match("server event_id", /^event_/, late.event_id);
      s.send({ type: "conversation.item.retrieve", item_id: "item_nope", event_id: "ev_r1" });
      const e = await ctx.wait(s, "error");
      ctx.check(
        "unknown item: an error",
        "invalid_request_error ev_r1",
        `${e.error.type} ${e.error.event_id}`,
        {
          source: 'openai SDK comment ("the server will respond with an error"); §6.5',
        },
      );
      ctx.emulatorOnly(
        "unknown item: code and param",
        "item_not_found item_id",
        `${e.error.code} ${e.error.param}`,
      );
      ctx.emulatorOnly(
        "unknown item: the message names it",
        true,
        /item_nope/.test(e.error.message),
      );
    },
  },
];
