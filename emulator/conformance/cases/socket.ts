/**
 * WebSocket `/v1/realtime` (protocol reference §4.3, §6.1, §6.5): handshake outcomes and auth
 * variants, client-event errors, and `session.update` validation on `?intent=transcription`.
 *
 * @module
 */
import type { Case } from "../types.ts";

/** The update errors: session, expected `code param`, source. */
const BAD_UPDATES: [string, unknown, string, string][] = [
  ["no session.type", { audio: {} }, "missing_required_parameter session.type", "§6.5 [LIVE]"],
  [
    "unknown field",
    { type: "transcription", bogus_field: 1 },
    "unknown_parameter session.bogus_field",
    "§6.5 [LIVE]",
  ],
  [
    "beta name input_audio_format",
    { type: "transcription", input_audio_format: "pcm16" },
    "unknown_parameter session.input_audio_format",
    "§6.5 [LIVE]",
  ],
  [
    "beta name turn_detection at the top",
    { type: "transcription", turn_detection: null },
    "unknown_parameter session.turn_detection",
    "§6.5 [LIVE]",
  ],
  [
    "rate 16000",
    { type: "transcription", audio: { input: { format: { type: "audio/pcm", rate: 16000 } } } },
    "integer_below_min_value session.audio.input.format.rate",
    "§5.1 [LIVE]",
  ],
  [
    "format pcm16",
    { type: "transcription", audio: { input: { format: { type: "pcm16" } } } },
    "invalid_value session.audio.input.format.type",
    "§6.5 [param INFER]",
  ],
  [
    "unknown VAD type (with a valid model part)",
    {
      type: "transcription",
      audio: {
        input: { transcription: { model: "gpt-4o-transcribe" }, turn_detection: { type: "x" } },
      },
    },
    "invalid_value session.audio.input.turn_detection.type",
    "§5.1 [INFER]",
  ],
  [
    "a realtime update to a transcription session",
    { type: "realtime" },
    "invalid_value session.type",
    "[LIVE wording in public client notes; code INFER]",
  ],
  [
    "server_vad for gpt-live-transcribe",
    {
      type: "transcription",
      audio: {
        input: {
          transcription: { model: "gpt-live-transcribe" },
          turn_detection: { type: "server_vad" },
        },
      },
    },
    "invalid_value session.audio.input.turn_detection",
    "2026-12 update [DOC; LIVE body]",
  ],
];

export const SOCKET_CASES: readonly Case[] = [
  {
    id: "socket.handshakes",
    title:
      "Unknown call_id 404 JSON; bad key 3000; OpenAI-Beta 4000; missing model 4000; subprotocol auth",
    source: "§4.3 [LIVE]",
    async run(ctx) {
      const missing = await ctx.handshake("call_id=rtc_missing", ctx.target.apiKey);
      ctx.check("unknown call_id: status", 404, missing.status);
      ctx.check(
        "unknown call_id: body",
        {
          error: {
            message: "No session found for the provided call_id",
            type: "invalid_request_error",
            code: "call_id_not_found",
            param: "",
          },
        },
        missing.json,
        { source: "§4.3 [LIVE 2026 body]" },
      );

      const bad = ctx.socket("intent=transcription", {
        headers: { Authorization: "Bearer sk-wrong" },
      });
      const badClose = await bad.closed;
      ctx.check(
        "bad key: close",
        "3000 invalid_request_error.invalid_api_key",
        `${badClose.code} ${badClose.reason}`,
      );
      ctx.check(
        "bad key: the error first",
        "error invalid_api_key",
        `${bad.events[0]?.type} ${bad.events[0]?.error?.code}`,
      );

      const beta = ctx.socket("intent=transcription", {
        headers: { Authorization: `Bearer ${ctx.target.apiKey}`, "OpenAI-Beta": "realtime=v1" },
      });
      ctx.check("OpenAI-Beta: close", 4000, (await beta.closed).code, {
        source: "§4.2 [LIVE capture 2026-09-18]",
      });
      ctx.check("OpenAI-Beta: error", "beta_api_shape_disabled", beta.events[0]?.error?.code, {
        source: "§4.2 [LIVE capture 2026-09-18]",
      });

      const noModel = ctx.socket("model=");
      ctx.check("empty model: close", 4000, (await noModel.closed).code);
      ctx.check("empty model: error", "missing_model", noModel.events[0]?.error?.code);

      const sub = ctx.socket("intent=transcription", {
        protocols: ["realtime", `openai-insecure-api-key.${ctx.target.apiKey}`],
      });
      await sub.opened;
      ctx.check("subprotocol auth: the server selects realtime", "realtime", sub.ws.protocol, {
        source: "§4.2 [SDK openai-node websocket.ts; RFC 6455]",
      });
      const created = await ctx.wait(sub, "session.created");
      ctx.check("first event session.created", true, sub.events[0] === created, {
        source: "§4.4 [LIVE]",
      });
      ctx.check("session object", "realtime.transcription_session", created.session?.object);
      ctx.check(
        "session lasts 60 minutes",
        "expires_at ≥ now + 3500 s",
        created.session?.expires_at,
        {
          ok: created.session?.expires_at > Date.now() / 1000 + 3500,
          source: "§8 [DOC]",
        },
      );

      const model = ctx.socket("model=gpt-realtime");
      const mc = await ctx.wait(model, "session.created");
      ctx.check(
        "?model=gpt-realtime",
        "realtime.session gpt-realtime",
        `${mc.session?.object} ${mc.session?.model}`,
        {
          source: "§4.1 [SDK]",
        },
      );
    },
  },
  {
    id: "socket.client_errors",
    title: "Client-event errors are non-fatal and echo event_id",
    source: "§6.1, §6.5 [LIVE]",
    async run(ctx) {
      const s = await ctx.transcriptionSocket();
      s.send({ type: "transcription_session.update", event_id: "evt_client_1", session: {} });
      const e1 = await ctx.wait(s, "error");
      ctx.check(
        "beta type",
        "invalid_value type evt_client_1",
        `${e1.error.code} ${e1.error.param} ${e1.error.event_id}`,
      );
      ctx.match(
        "the message lists the accepted types",
        /'session\.update'.*'response\.cancel'/s,
        e1.error.message,
      );
      ctx.match("server event_id", /^event_/, e1.event_id);
      s.ws.send("{not json");
      const e2 = await ctx.wait(s, "error", (e) => e.error.code === "invalid_json");
      ctx.check("non-JSON text: param", null, e2.error.param);
      s.ws.send(new Uint8Array([1, 2, 3]));
      const e3 = await ctx.wait(s, "error", (e) => e.error.code === "invalid_event");
      ctx.match("binary frame", /binary frames are not supported/, e3.error.message);
      s.send({ type: "input_audio_buffer.commit" });
      const e4 = await ctx.wait(
        s,
        "error",
        (e) => e.error.code === "input_audio_buffer_commit_empty",
      );
      ctx.match("empty commit", /buffer too small/, e4.error.message);
      s.send({ type: "input_audio_buffer.clear" });
      await ctx.wait(s, "input_audio_buffer.cleared");
      ctx.check("clear is answered", true, s.types().includes("input_audio_buffer.cleared"));
      ctx.check("errors are not fatal", WebSocket.OPEN, s.ws.readyState);
    },
  },
  {
    id: "socket.session_update",
    title:
      "session.update: a bad update is discarded whole; session.updated carries the full session",
    source: "§6.1 [LIVE]",
    async run(ctx) {
      const s = await ctx.transcriptionSocket();
      for (const [what, session, expected, source] of BAD_UPDATES) {
        const n = s.events.length;
        s.send({ type: "session.update", session });
        const e = await ctx.wait(s, "error", (x) => s.events.indexOf(x) >= n);
        ctx.check(what, expected, `${e.error.code} ${e.error.param}`, { source });
      }
      ctx.check("no update applied", 0, s.types().filter((t) => t === "session.updated").length);
      const wrongType = s.events.find((e) =>
        e.type === "error" && e.error.param === "session.type" &&
        e.error.code === "invalid_value"
      );
      ctx.check(
        "a realtime update: the live wording",
        "Passing a realtime session update to a transcription session is not allowed.",
        wrongType?.error.message,
        { source: "[LIVE wording quoted in public client notes, 2026]" },
      );
      const u = await ctx.update(s, {
        type: "transcription",
        include: ["item.input_audio_transcription.logprobs"],
      });
      ctx.check(
        "the discarded model part did not apply",
        null,
        u.session.audio.input.transcription,
      );
      ctx.check("include applied", ["item.input_audio_transcription.logprobs"], u.session.include);
      ctx.check(
        "the default VAD is kept",
        "server_vad",
        u.session.audio.input.turn_detection?.type,
      );
      ctx.match("the server's event_id", /^event_/, u.event_id);
    },
  },
];
