/**
 * The Realtime WebSocket at `/v1/realtime`: `?call_id=` sidebands attached to a
 * live call, and `?intent=transcription` / `?model=` sessions that take base64
 * PCM16 through `input_audio_buffer.append` and run the same engine.
 *
 * @module
 */
import { Session } from "./engine.ts";
import { handleClientText } from "./client_events.ts";
import { ApiError, errorResponse, jsonResponse } from "./errors.ts";
import { bearer, checkKey, type KeyCheck } from "./auth.ts";
import * as events from "./events.ts";
import * as ids from "./ids.ts";
import { applyFaults } from "./rest.ts";
import { buildSession, defaultSession, type EffectiveSession } from "./session_schema.ts";
import { newCallRecord } from "./calls.ts";
import { type CallRecord, type EmulatorState, SocketSink } from "./state.ts";

const KEY_PROTOCOL = "openai-insecure-api-key.";

interface Handshake {
  key: string | null;
  protocols: string[];
  beta: boolean;
}

function readHandshake(req: Request): Handshake {
  const protocols = (req.headers.get("sec-websocket-protocol") ?? "").split(",")
    .map((p) => p.trim()).filter(Boolean);
  const fromProtocol = protocols.find((p) => p.startsWith(KEY_PROTOCOL))?.slice(
    KEY_PROTOCOL.length,
  ) ?? null;
  return {
    key: bearer(req.headers) ?? fromProtocol,
    protocols,
    beta: req.headers.has("openai-beta") ||
      protocols.some((p) => p.startsWith("openai-beta.")),
  };
}

function upgrade(
  req: Request,
  state: EmulatorState,
  hs: Handshake,
): { socket: WebSocket; response: Response } {
  const r = Deno.upgradeWebSocket(req, {
    protocol: hs.protocols.includes("realtime") ? "realtime" : undefined,
    // Deno pings after idleTimeout/2 s without a client frame and closes (1001)
    // when no pong arrives within another idleTimeout/2 (see docs/emulator.md).
    idleTimeout: Math.max(0, state.options.pingIntervalSeconds) * 2,
  });
  state.sockets.add(r.socket);
  r.socket.addEventListener("close", () => state.sockets.delete(r.socket));
  return r;
}

function failAfterUpgrade(
  socket: WebSocket,
  code: string | null,
  message: string,
  closeCode: number,
  param: string | null = null,
): void {
  socket.addEventListener("open", () => {
    // Typed like every other server event (the `openai` package's `RealtimeErrorEvent`).
    const body = events.error({
      type: "invalid_request_error",
      code,
      message,
      param,
      event_id: null,
    });
    socket.send(JSON.stringify({ event_id: ids.eventId(), ...body }));
    socket.close(
      closeCode,
      code ? `invalid_request_error.${code}` : "invalid_request_error",
    );
  });
}

function wire(
  socket: WebSocket,
  sink: SocketSink,
  session: Session,
  state: EmulatorState,
  onClose: () => void,
  call: CallRecord | null,
): void {
  socket.addEventListener("message", (ev) => {
    if (session.ended) return;
    if (typeof ev.data !== "string") {
      session.error(
        sink,
        "invalid_event",
        "Expected a text WebSocket message; binary frames are not supported.",
      );
      return;
    }
    handleClientText(ev.data, {
      session,
      from: sink,
      schema: state.schema,
      webrtc: call?.kind === "webrtc" || call?.kind === "sip",
      updatedDelayMs: state.options.sessionUpdatedDelayMs,
      sidebandRefusesUpdates: state.options.sidebandRefusesUpdates,
      onClose: () => sink.close(1000, ""),
    });
  });
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
  if (key.kind === "ephemeral") return structuredClone(key.secret.session);
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

async function attachSideband(
  req: Request,
  state: EmulatorState,
  hs: Handshake,
  callId: string,
): Promise<Response> {
  const fault = await applyFaults(state, "sideband");
  if (fault) return fault;
  const notFound = () =>
    jsonResponse({
      error: {
        message: "No session found for the provided call_id",
        type: "invalid_request_error",
        code: "call_id_not_found",
        param: "",
      },
    }, 404);
  if (state.faults.takeSidebandRefusal()) return notFound();
  const key = checkKey(state, hs.key);
  const keyOk = key.kind === "standard" ||
    (key.kind === "ephemeral" && state.options.sidebandAcceptsEphemeral);
  const call = state.calls.get(callId);
  if (
    !keyOk || !call || call.state !== "active" || call.kind === "websocket" ||
    !call.session
  ) return notFound();
  const session = call.session;
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
