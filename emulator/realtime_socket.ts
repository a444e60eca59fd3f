/**
 * The Realtime WebSocket at `/v1/realtime`: `?call_id=` sidebands attached to a
 * live call, and `?intent=transcription` / `?model=` sessions that take base64
 * PCM16 through `input_audio_buffer.append` and run the same engine.
 *
 * @module
 */
import { Session } from "./engine.ts";
import { handleClientText } from "./client_events.ts";
import { ApiError, errorResponse } from "./errors.ts";
import { checkKey, type KeyCheck } from "./auth.ts";
import * as ids from "./ids.ts";
import { applyFaults } from "./rest.ts";
import { buildSession, defaultSession, type EffectiveSession } from "./session_schema.ts";
import { newCallRecord } from "./calls.ts";
import { type CallRecord, type EmulatorState, SocketSink } from "./state.ts";
import {
  callIdNotFound,
  failAfterUpgrade,
  type Handshake,
  onTextFrames,
  readHandshake,
  upgrade,
} from "./socket_handshake.ts";
import { attachTranslationSideband, translationSidebandAllowed } from "./translation_sideband.ts";

function wire(
  socket: WebSocket,
  sink: SocketSink,
  session: Session,
  state: EmulatorState,
  onClose: () => void,
  call: CallRecord | null,
): void {
  onTextFrames(socket, sink, session, (text) =>
    handleClientText(text, {
      session,
      from: sink,
      schema: state.schema,
      webrtc: call?.kind === "webrtc" || call?.kind === "sip",
      updatedDelayMs: state.options.sessionUpdatedDelayMs,
      sidebandRefusesUpdates: state.options.sidebandRefusesUpdates,
      onClose: () => sink.close(1000, ""),
    }));
  socket.addEventListener("close", onClose);
}

/** Handles `GET /v1/realtime` (WebSocket upgrade). */
export async function handleRealtimeSocket(
  req: Request,
  state: EmulatorState,
): Promise<Response> {
  if ((req.headers.get("upgrade") ?? "").toLowerCase() !== "websocket") {
    return errorResponse(
      new ApiError(400, null, "Expected a WebSocket upgrade request."),
    );
  }
  const hs = readHandshake(req);
  const q = new URL(req.url).searchParams;
  const callId = q.get("call_id");
  if (hs.beta) {
    const { socket, response } = upgrade(req, state, hs);
    failAfterUpgrade(
      socket,
      "beta_api_shape_disabled",
      "The Realtime beta API shape is no longer supported. Remove the 'OpenAI-Beta: realtime=v1' header and use the GA interface.",
      4000,
    );
    return response;
  }
  if (callId !== null) return await attachSideband(req, state, hs, callId);
  const key = checkKey(state, hs.key);
  const { socket, response } = upgrade(req, state, hs);
  if (key.kind === "invalid" || key.kind === "expired") {
    failAfterUpgrade(
      socket,
      "invalid_api_key",
      "Incorrect API key provided.",
      3000,
    );
    return response;
  }
  let config: EffectiveSession;
  try {
    config = sessionForQuery(q, key, state);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    failAfterUpgrade(socket, e.code, e.message, 4000, e.param);
    return response;
  }
  const session = new Session(state.host, config, ids.sessionId());
  const call = newCallRecord("websocket", session.id);
  call.session = session;
  state.calls.set(call.id, call);
  const sink = new SocketSink(socket, "websocket");
  session.onEnd = (reason) => void state.endCall(call, reason);
  socket.addEventListener("open", () => session.attach(sink, true));
  wire(
    socket,
    sink,
    session,
    state,
    () => void state.endCall(call, "socket closed"),
    call,
  );
  return response;
}

function sessionForQuery(
  q: URLSearchParams,
  key: KeyCheck,
  state: EmulatorState,
): EffectiveSession {
  const intent = q.get("intent");
  const model = q.get("model");
  if (intent !== null && model !== null) {
    throw new ApiError(
      400,
      "invalid_request",
      "Provide exactly one of 'call_id', 'model' or 'intent'.",
      null,
    );
  }
  if (key.kind === "ephemeral") {
    if (key.secret.session.type === "translation") {
      throw new ApiError(
        400,
        "invalid_request",
        "This client secret is for a translation session; connect to /v1/realtime/translations.",
        null,
      );
    }
    return structuredClone(key.secret.session);
  }
  if (intent !== null) {
    if (intent !== "transcription") {
      throw new ApiError(
        400,
        "invalid_value",
        `Invalid value: '${intent}'. Supported values are: 'transcription'.`,
        "intent",
      );
    }
    return defaultSession("transcription", state.schema);
  }
  if (!model) {
    throw new ApiError(
      400,
      "missing_model",
      "Missing required parameter: 'model'.",
      "model",
    );
  }
  try {
    return buildSession({ type: "realtime", model }, "", state.schema, {
      source: "call",
    });
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    throw new ApiError(
      400,
      "invalid_model",
      `Invalid model: '${model}'. ${e.message}`,
      "model",
    );
  }
}

/**
 * A `?call_id=` sideband: attaches to a live call or answers HTTP 404 `call_id_not_found`. `url`
 * is the endpoint it came to: `/v1/realtime` or (translation calls only) `/v1/realtime/translations`.
 */
export async function attachSideband(
  req: Request,
  state: EmulatorState,
  hs: Handshake,
  callId: string,
  url: "realtime_url" | "translations_url" = "realtime_url",
): Promise<Response> {
  const fault = await applyFaults(state, "sideband");
  if (fault) return fault;
  const notFound = callIdNotFound;
  if (state.faults.takeSidebandRefusal()) return notFound();
  const key = checkKey(state, hs.key);
  const keyOk = key.kind === "standard" ||
    (key.kind === "ephemeral" && state.options.sidebandAcceptsEphemeral);
  const call = state.calls.get(callId);
  if (
    !keyOk || !call || call.state !== "active" || call.kind === "websocket" ||
    !call.session
  ) return notFound();
  if (call.api === "translation") {
    // Whether the Translation API has sidebands is unknown: an option (refused by default).
    if (!translationSidebandAllowed(state, url)) return notFound();
    return attachTranslationSideband(req, state, hs, call);
  }
  if (url !== "realtime_url") return notFound();
  const session = call.session as Session;
  const { socket, response } = upgrade(req, state, hs);
  const sink = new SocketSink(socket, "sideband");
  socket.addEventListener("open", () => {
    if (session.ended) return sink.close(1000, "");
    session.attach(sink, state.options.sidebandSessionCreated);
  });
  wire(socket, sink, session, state, () => session.detach(sink), call);
  return response;
}

/** Closes every sideband socket of every call (fault "drop sidebands"). */
export function dropSidebands(state: EmulatorState, callId?: string): number {
  let n = 0;
  for (const call of state.calls.values()) {
    if (callId && call.id !== callId) continue;
    for (const sink of [...call.session?.sinks ?? []]) {
      if (sink.kind !== "sideband") continue;
      call.session!.detach(sink);
      sink.close(1011, "emulator fault: sideband dropped");
      n++;
    }
  }
  return n;
}
