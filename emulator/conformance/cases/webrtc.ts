/**
 * WebRTC calls with a connected client peer (protocol reference §3, §4.4): the data channel,
 * sideband attach and fan-out, speech over Opus for the app's two paths (server VAD with
 * gpt-transcribe, page commits with gpt-live-transcribe), and what a transcription sideband may
 * update.
 *
 * @module
 */
import type { Ev } from "../../testkit.ts";
import type { ClientPeer } from "../peer.ts";
import type { CaseContext } from "../context.ts";
import { GPT_TRANSCRIBE_WEBRTC, SIDEBAND_SESSION_CREATED, SIDEBAND_UPDATES } from "../questions.ts";
import type { Case } from "../types.ts";
import { sessionFor, VAD_TURN } from "./audio.ts";

const COMPLETED = "conversation.item.input_audio_transcription.completed";
const DELTA = "conversation.item.input_audio_transcription.delta";

/** Mints an ek_ for `session`, posts the peer's offer with it and connects the peer. */
async function connectedCall(
  ctx: CaseContext,
  session: Ev,
): Promise<{ peer: ClientPeer; callId: string | null; status: number; error: unknown }> {
  const peer = await ctx.peer();
  const secret = await ctx.mint(session);
  const call = await ctx.rawCall(peer.offer, secret.json?.value ?? "ek_missing");
  if (call.status !== 201 || !call.callId) {
    return { peer, callId: null, status: call.status, error: call.json?.error ?? call.text };
  }
  await peer.connect(call.text, ctx.timeoutMs);
  return { peer, callId: call.callId, status: call.status, error: null };
}

/** Opens a sideband on `callId` with the standard key in a header. */
async function sideband(ctx: CaseContext, callId: string, subprotocol = false) {
  const s = ctx.socket(
    `call_id=${callId}`,
    subprotocol
      ? { protocols: ["realtime", `openai-insecure-api-key.${ctx.target.apiKey}`] }
      : { headers: { Authorization: `Bearer ${ctx.target.apiKey}` } },
  );
  await s.opened;
  return s;
}

const settle = (ctx: CaseContext) => new Promise((r) => setTimeout(r, ctx.live ? 2000 : 100));

export const WEBRTC_CASES: readonly Case[] = [
  {
    id: "webrtc.sideband",
    title:
      "A transcription call: session.created first on the channel; sidebands attach, share updates, errors stay with the sender",
    source: "§3, §4.4",
    async run(ctx) {
      const call = await connectedCall(ctx, sessionFor("gpt-transcribe"));
      ctx.check("call created", 201, call.status);
      if (!call.callId) return;
      const first = await call.peer.waitFor("session.created", () => true, ctx.timeoutMs);
      ctx.check("first data-channel event", "session.created", call.peer.events[0]?.type, {
        source: "§3 [agents-js]",
      });
      ctx.check("the channel's session", "realtime.transcription_session", first.session?.object);
      const a = await sideband(ctx, call.callId);
      const b = await sideband(ctx, call.callId, true);
      ctx.check("subprotocol sideband: realtime selected", "realtime", b.ws.protocol, {
        source: "§4.2 [SDK]",
      });
      await settle(ctx);
      const assumed = ctx.target.emulator?.control.state.options.sidebandSessionCreated ?? false;
      ctx.question(
        SIDEBAND_SESSION_CREATED,
        "session.created on attach",
        assumed,
        a.types().includes("session.created"),
      );
      const n = call.peer.events.length;
      a.send({
        type: "session.update",
        session: {
          type: "transcription",
          audio: { input: { transcription: { model: "gpt-4o-transcribe" } } },
        },
      });
      const [ua, ub] = await Promise.all([
        ctx.wait(a, "session.updated"),
        ctx.wait(b, "session.updated"),
      ]);
      ctx.check("both sidebands get the same session.updated", ua.event_id, ub.event_id, {
        source: "§4.4 [INFER: broadcast]",
      });
      ctx.check(
        "… with the new model",
        "gpt-4o-transcribe",
        ub.session?.audio?.input?.transcription?.model,
      );
      const onChannel = await call.peer.waitFor(
        "session.updated",
        (e) => call.peer.events.indexOf(e) >= n,
        ctx.timeoutMs,
      )
        .catch(() => null);
      ctx.check("… and so does the data channel", ua.event_id, onChannel?.event_id, {
        source: "§4.4 [INFER: broadcast]",
      });
      b.send({ type: "session.update", session: { type: "transcription", bogus: 1 } });
      await ctx.wait(b, "error");
      await settle(ctx);
      ctx.check("an error goes to its sender only", false, a.types().includes("error"), {
        source: "§4.4 [INFER]",
      });
      const secret = await ctx.mint({ type: "transcription" });
      const eph = await ctx.handshake(`call_id=${call.callId}`, secret.json?.value);
      ctx.check("an ek_ cannot attach", 404, eph.status, { source: "§4.2 [LIVE forum 1396002]" });
      await a.close();
      await settle(ctx);
      ctx.check("closing a sideband leaves the call", WebSocket.OPEN, b.ws.readyState, {
        source: "§4.4 [DOC]",
      });
      const listed = ctx.target.emulator?.control.calls().find((c) => c.id === call.callId);
      ctx.emulatorOnly(
        "the call is active with one sideband",
        "active 1",
        `${listed?.state} ${(listed?.sidebands as string[])?.length}`,
      );
      ctx.check("hang-up", 200, await ctx.hangup(call.callId));
      const closed = await Promise.race([
        b.closed,
        new Promise((r) => setTimeout(r, ctx.timeoutMs)),
      ]);
      ctx.check("hang-up closes the sideband", true, closed instanceof CloseEvent, {
        source: "§2.6 [INFER]",
      });
      ctx.emulatorOnly("close code", 1000, (closed as CloseEvent)?.code);
      const late = await ctx.handshake(`call_id=${call.callId}`, ctx.target.apiKey);
      ctx.check("no sideband for an ended call", 404, late.status, { source: "§4.3 [LIVE]" });
    },
  },
  {
    id: "webrtc.server_vad_speech",
    title:
      "Speech over WebRTC with gpt-transcribe (server VAD): the turn on the data channel and the sideband",
    source: "§3, §6.3",
    liveAudio: [{ model: "gpt-transcribe", seconds: 4 }],
    async run(ctx) {
      const text = "Speech over a real peer connection.";
      const { pcm } = await ctx.speech(text, { padStartSec: 0.5, padEndSec: 1.5 });
      const call = await connectedCall(ctx, sessionFor("gpt-transcribe"));
      const works = call.callId !== null;
      if (!works) {
        ctx.question(
          GPT_TRANSCRIBE_WEBRTC,
          "call with a gpt-transcribe session",
          "201",
          `${call.status} ${JSON.stringify(call.error)}`,
        );
        return;
      }
      const sb = await sideband(ctx, call.callId!);
      ctx.queue([text], call.callId!);
      await call.peer.sendAudio(pcm);
      const done = await call.peer.waitFor(COMPLETED, () => true, ctx.timeoutMs).catch(() => null);
      ctx.question(GPT_TRANSCRIBE_WEBRTC, "a transcript on the data channel", true, done !== null);
      if (!done) return;
      const types = call.peer.events.map((e) => e.type).filter((t) => t !== DELTA);
      const from = types.indexOf("input_audio_buffer.speech_started");
      ctx.check("the turn on the data channel", VAD_TURN, types.slice(from, from + 6));
      const onSideband = await ctx.wait(sb, COMPLETED).catch(() => null);
      ctx.check("the same completed on the sideband", done.event_id, onSideband?.event_id, {
        source: "§4.4 [INFER: fan-out]",
      });
      if (!ctx.live) ctx.check("transcript", text, done.transcript, { source: "the queued text" });
    },
  },
  {
    id: "webrtc.page_commits",
    title:
      "gpt-live-transcribe over WebRTC: deltas while speaking, the page's commit on the data channel ends the turn",
    source: "2026-12 update [DOC realtime-transcription guide]",
    liveAudio: [{ model: "gpt-live-transcribe", seconds: 4 }],
    async run(ctx) {
      const text = "Captions stream while I am still talking.";
      const { pcm } = await ctx.speech(text, { padStartSec: 0.3, padEndSec: 0.6 });
      const call = await connectedCall(ctx, sessionFor("gpt-live-transcribe"));
      ctx.check("call created", 201, call.status);
      if (!call.callId) return;
      ctx.check(
        "the session has no turn detection",
        null,
        (await call.peer.waitFor("session.created", () => true, ctx.timeoutMs))
          .session?.audio?.input?.turn_detection,
      );
      ctx.queue([text], call.callId);
      await call.peer.sendAudio(pcm);
      const first = await call.peer.waitFor(DELTA, () => true, ctx.timeoutMs).catch(() => null);
      const committedEarly = call.peer.events.some((e) =>
        e.type === "input_audio_buffer.committed"
      );
      ctx.check("a delta before the page commits", true, first !== null && !committedEarly);
      call.peer.send({ type: "input_audio_buffer.commit" });
      const done = await call.peer.waitFor(COMPLETED, () => true, ctx.timeoutMs);
      const deltas = call.peer.events.filter((e) => e.type === DELTA);
      ctx.check(
        "deltas concatenate to the transcript",
        done.transcript,
        deltas.map((e) => e.delta).join(""),
      );
      if (!ctx.live) ctx.check("transcript", text, done.transcript, { source: "the queued text" });
    },
  },
  {
    id: "webrtc.sideband_updates",
    title:
      "What session.update a transcription call's sideband may send (the app pushes its private prompt)",
    source: "§4.4",
    async run(ctx) {
      const call = await connectedCall(ctx, sessionFor("gpt-transcribe"));
      if (!call.callId) {
        ctx.check("call created", 201, call.status);
        return;
      }
      const sb = await sideband(ctx, call.callId);
      const input = (extra: Ev) => ({ type: "transcription", audio: { input: extra } });
      const variants: [string, Ev][] = [
        [
          "a prompt (the app's private prompt push)",
          input({ transcription: { model: "gpt-transcribe", prompt: "Vocabulary: Zorblax" } }),
        ],
        ["another model", input({ transcription: { model: "gpt-4o-transcribe" } })],
        ["semantic VAD", input({ turn_detection: { type: "semantic_vad" } })],
        ["noise reduction", input({ noise_reduction: { type: "near_field" } })],
        ["logprobs", {
          type: "transcription",
          include: ["item.input_audio_transcription.logprobs"],
        }],
      ];
      const refusesAll = ctx.target.emulator?.control.state.options.sidebandRefusesUpdates ?? false;
      for (const [what, session] of variants) {
        const answer = await ctx.answerTo(sb, session);
        const observed = answer.type === "error"
          ? `error ${answer.error.code} ${answer.error.param}`
          : "session.updated";
        ctx.question(
          SIDEBAND_UPDATES,
          what,
          refusesAll ? "error invalid_value type" : "session.updated",
          observed,
        );
      }
    },
  },
];
