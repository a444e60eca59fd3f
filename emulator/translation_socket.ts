/**
 * The Translation WebSocket `GET /v1/realtime/translations?model=gpt-realtime-translate`: a new
 * translation session fed with `session.input_audio_buffer.append` (base64 24 kHz PCM16, consumed
 * in 200 ms frames), answering with `session.output_transcript.delta`,
 * `session.output_audio.delta` and (with input transcription) `session.input_transcript.delta`;
 * `session.close` → `session.closed` → close 1000. `?call_id=` is a sideband (see
 * `translation_sideband.ts`).
 *
 * @module
 */
import { checkKey } from "./auth.ts";
import { newCallRecord } from "./calls.ts";
import { ApiError, errorResponse } from "./errors.ts";
import * as ids from "./ids.ts";
import { attachSideband } from "./realtime_socket.ts";
import { failAfterUpgrade, readHandshake, upgrade } from "./socket_handshake.ts";
import { type EmulatorState, SocketSink } from "./state.ts";
import { TranslationSession } from "./translation_engine.ts";
import {
  defaultTranslationSession,
  TRANSLATION_MODELS,
  type TranslationSessionObject,
} from "./translation_schema.ts";
import { wireTranslationSocket } from "./translation_sideband.ts";

/** Handles `GET /v1/realtime/translations` (WebSocket upgrade). */
export async function handleTranslationSocket(
  req: Request,
  state: EmulatorState,
): Promise<Response> {
  if ((req.headers.get("upgrade") ?? "").toLowerCase() !== "websocket") {
    return errorResponse(new ApiError(400, null, "Expected a WebSocket upgrade request."));
  }
  const hs = readHandshake(req);
  const q = new URL(req.url).searchParams;
  const callId = q.get("call_id");
  if (callId !== null && !hs.beta) {
    return await attachSideband(req, state, hs, callId, "translations_url");
  }
  const key = checkKey(state, hs.key);
  const { socket, response } = upgrade(req, state, hs);
  const fail = (code: string | null, message: string, closeCode: number, param?: string) => {
    failAfterUpgrade(socket, code, message, closeCode, param ?? null);
    return response;
  };
  if (hs.beta) {
    return fail(
      "beta_api_shape_disabled",
      "The Realtime beta API shape is no longer supported. Remove the 'OpenAI-Beta: realtime=v1' header and use the GA interface.",
      4000,
    );
  }
  if (key.kind === "invalid" || key.kind === "expired") {
    return fail("invalid_api_key", "Incorrect API key provided.", 3000);
  }
  if (q.has("intent")) {
    return fail("unknown_parameter", "Unknown parameter: 'intent'.", 4000, "intent");
  }
  let config: TranslationSessionObject;
  if (key.kind === "ephemeral") {
    if (key.secret.session.type !== "translation") {
      return fail(
        "invalid_request",
        "This client secret is not for a translation session; connect to /v1/realtime.",
        4000,
      );
    }
    config = structuredClone(key.secret.session);
  } else {
    const model = q.get("model");
    if (!model) return fail("missing_model", "Missing required parameter: 'model'.", 4000, "model");
    if (!TRANSLATION_MODELS.includes(model)) {
      return fail(
        "invalid_model",
        `Invalid model: '${model}'. Supported values are: ${
          TRANSLATION_MODELS.map((m) => `'${m}'`).join(", ")
        }.`,
        4000,
        "model",
      );
    }
    config = defaultTranslationSession(model, state.translationRules);
  }
  const session = new TranslationSession(state.host, config, ids.sessionId(), [], "events");
  const call = newCallRecord("websocket", session.id);
  call.api = "translation";
  call.session = session;
  state.calls.set(call.id, call);
  const sink = new SocketSink(socket, "websocket");
  session.onEnd = (reason) => void state.endCall(call, reason);
  socket.addEventListener("open", () => session.attach(sink, true));
  wireTranslationSocket(socket, sink, session, state, {
    onClosed: () => void state.endCall(call, "session.close"),
    onSocketClose: () => void state.endCall(call, "socket closed"),
  });
  return response;
}
