/**
 * Handling of client events (JSON text from a WebSocket or the data channel):
 * parsing, the accepted type list, `session.update` validation and audio appends.
 *
 * @module
 */
import type { RealtimeClientEvent } from "../lib/openai_types.ts";
import { ApiError } from "./errors.ts";
import type { Session, SessionObject, Sink } from "./engine.ts";
import type { AnyServerEventBody, SessionCore } from "./session_core.ts";
import { sessionEvent } from "./events.ts";
import { buildSession, type SchemaContext } from "./session_schema.ts";
import { base64ToPcm16 } from "./audio.ts";

/** Client event types the live server accepts (it lists these on an unknown type). */
export const CLIENT_EVENT_TYPES = [
  "session.update",
  "session.close",
  "input_audio_buffer.append",
  "session.input_audio_buffer.append",
  "input_audio_buffer.commit",
  "input_audio_buffer.clear",
  "conversation.item.create",
  "conversation.item.truncate",
  "conversation.item.delete",
  "conversation.item.retrieve",
  "response.create",
  "response.cancel",
] as const satisfies readonly (
  | RealtimeClientEvent["type"]
  | "session.close"
  | "session.input_audio_buffer.append"
)[];

/** Context for handling one client event. */
export interface ClientEventContext {
  session: Session;
  from: Sink;
  schema: SchemaContext;
  /** Whether `output_audio_buffer.clear` is valid (WebRTC/SIP sessions). */
  webrtc: boolean;
  /** Delay before `session.updated`. */
  updatedDelayMs: number;
  /** Refuse `session.update` from a sideband (option `sidebandRefusesUpdates`). */
  sidebandRefusesUpdates?: boolean;
  /** Called for `session.close`. */
  onClose: () => void;
}

function listTypes(types: readonly string[]): string {
  const q = types.map((t) => `'${t}'`);
  return `${q.slice(0, -1).join(", ")}, and ${q[q.length - 1]}`;
}

/** A parsed client event with an accepted `type`. */
export interface ParsedClientEvent {
  event: Record<string, unknown>;
  /** The client's `event_id`, echoed in `error.event_id`. */
  clientEventId: string | null;
  type: string;
}

/**
 * Parses one text frame and checks its `type` against `accepted`; reports the problem as an
 * `error` event to the sender and returns null when it is not a usable client event.
 */
export function readClientEvent(
  text: string,
  session: SessionCore<AnyServerEventBody>,
  from: Sink,
  accepted: readonly string[],
): ParsedClientEvent | null {
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(text);
  } catch {
    session.error(
      from,
      "invalid_json",
      "The server could not parse the JSON body of your event. Please check that the event is valid JSON.",
    );
    return null;
  }
  if (typeof event !== "object" || event === null || Array.isArray(event)) {
    session.error(from, "invalid_json", "Expected a JSON object as the event.");
    return null;
  }
  const clientEventId = typeof event.event_id === "string" ? event.event_id : null;
  const type = event.type;
  if (type === undefined) {
    session.error(
      from,
      "missing_required_parameter",
      "Missing required parameter: 'type'.",
      "type",
      clientEventId,
    );
    return null;
  }
  if (typeof type !== "string" || !accepted.includes(type)) {
    session.error(
      from,
      "invalid_value",
      `Invalid value: '${String(type)}'. Supported values are: ${listTypes(accepted)}.`,
      "type",
      clientEventId,
    );
    return null;
  }
  return { event, clientEventId, type };
}

/** Handles one text frame from a client. */
export function handleClientText(text: string, ctx: ClientEventContext): void {
  const { session, from } = ctx;
  const accepted: readonly string[] = ctx.webrtc
    ? [...CLIENT_EVENT_TYPES, "output_audio_buffer.clear"]
    : CLIENT_EVENT_TYPES;
  const parsed = readClientEvent(text, session, from, accepted);
  if (!parsed) return;
  const { event, clientEventId, type } = parsed;
  switch (type) {
    case "session.update":
      return sessionUpdate(event, clientEventId, ctx);
    case "input_audio_buffer.append":
    case "session.input_audio_buffer.append":
      return append(event, clientEventId, ctx);
    case "input_audio_buffer.commit":
      return session.commit(from, clientEventId);
    case "input_audio_buffer.clear":
      return session.clear();
    case "session.close":
      return ctx.onClose();
    case "output_audio_buffer.clear":
      return;
    case "conversation.item.retrieve":
      return session.retrieve(from, event.item_id, clientEventId);
    default:
      session.error(
        from,
        "emulator_unsupported",
        `The emulator does not implement '${type}' (responses and item changes are not emulated).`,
        "type",
        clientEventId,
      );
  }
}

/**
 * Checks a `session.update` before its `session` is read: refused outright from a sideband when
 * `sidebandRefusesUpdates`, else only `type`, `event_id` and (required) `session` at the top level.
 */
export function checkUpdateEnvelope(
  event: Record<string, unknown>,
  opts: { from: Sink; sidebandRefusesUpdates?: boolean },
): void {
  if (opts.from.kind === "sideband" && opts.sidebandRefusesUpdates) {
    // Which updates a sideband may send is unverified; this is the "none" end of it.
    throw new ApiError(
      400,
      "invalid_value",
      "session.update is not allowed on this connection.",
      "type",
    );
  }
  for (const key of Object.keys(event)) {
    if (!["type", "event_id", "session"].includes(key)) {
      throw new ApiError(
        400,
        "unknown_parameter",
        `Unknown parameter: '${key}'.`,
        key,
      );
    }
  }
  if (event.session === undefined) {
    throw new ApiError(
      400,
      "missing_required_parameter",
      "Missing required parameter: 'session'.",
      "session",
    );
  }
}

function sessionUpdate(
  event: Record<string, unknown>,
  clientEventId: string | null,
  ctx: ClientEventContext,
): void {
  const { session, from } = ctx;
  try {
    checkUpdateEnvelope(event, { from, sidebandRefusesUpdates: ctx.sidebandRefusesUpdates });
    const eff = buildSession(event.session, "session.", ctx.schema, {
      current: session.config,
      source: "update",
    });
    session.setConfig(eff);
    const snapshot = session.config;
    const send = () => session.emit(sessionEvent("session.updated", snapshot as SessionObject));
    if (ctx.updatedDelayMs > 0) session.schedule(send, ctx.updatedDelayMs);
    else send();
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    session.error(from, e.code, e.message, e.param, clientEventId, e.type);
  }
}

function append(
  event: Record<string, unknown>,
  clientEventId: string | null,
  ctx: ClientEventContext,
): void {
  const pcm = appendedAudio(event, clientEventId, ctx.session, ctx.from);
  if (pcm) ctx.session.pushAudio(pcm);
}

/**
 * The PCM16 of an `…input_audio_buffer.append` event (base64 `audio`, at most 15 MiB), or null
 * after reporting the problem to the sender.
 */
export function appendedAudio(
  event: Record<string, unknown>,
  clientEventId: string | null,
  session: SessionCore<AnyServerEventBody>,
  from: Sink,
): Int16Array | null {
  if (typeof event.audio !== "string") {
    session.error(
      from,
      "missing_required_parameter",
      "Missing required parameter: 'audio'.",
      "audio",
      clientEventId,
    );
    return null;
  }
  if (event.audio.length > 15 * 1024 * 1024 * 4 / 3) {
    session.error(
      from,
      "invalid_value",
      "Invalid 'audio': the payload exceeds 15 MiB.",
      "audio",
      clientEventId,
    );
    return null;
  }
  try {
    return base64ToPcm16(event.audio);
  } catch {
    session.error(
      from,
      "invalid_value",
      "Invalid 'audio'. Expected base64-encoded PCM16 audio.",
      "audio",
      clientEventId,
    );
    return null;
  }
}
