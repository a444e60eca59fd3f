/**
 * WebSocket handshakes shared by `/v1/realtime` and `/v1/realtime/translations`: reading the key
 * (header or `openai-insecure-api-key.` subprotocol), the upgrade with keep-alive pings, failing
 * after the upgrade (`error` event + close code), text frames to client events and the sideband's
 * HTTP 404.
 *
 * @module
 */
import { jsonResponse } from "./errors.ts";
import { bearer } from "./auth.ts";
import * as events from "./events.ts";
import * as ids from "./ids.ts";
import type { AnyServerEventBody, SessionCore, Sink } from "./session_core.ts";
import type { EmulatorState } from "./state.ts";

const KEY_PROTOCOL = "openai-insecure-api-key.";

/** What a WebSocket handshake carried. */
export interface Handshake {
  /** The key from `Authorization: Bearer` or the key subprotocol. */
  key: string | null;
  /** Offered subprotocols. */
  protocols: string[];
  /** An `OpenAI-Beta` header or `openai-beta.*` subprotocol was sent. */
  beta: boolean;
}

/** Reads the key, subprotocols and beta markers of an upgrade request (before upgrading). */
export function readHandshake(req: Request): Handshake {
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

/** Upgrades, selecting `realtime` when offered; the socket is tracked for reset/shutdown. */
export function upgrade(
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

/** Once open, sends one `error` event and closes with `closeCode` (reason `type.code`). */
export function failAfterUpgrade(
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

/** The sideband's answer for an unknown, ended or refused call: HTTP 404, no upgrade. */
export function callIdNotFound(): Response {
  return jsonResponse({
    error: {
      message: "No session found for the provided call_id",
      type: "invalid_request_error",
      code: "call_id_not_found",
      param: "",
    },
  }, 404);
}

/**
 * Hands every text frame of `socket` to `handle` while the session lives; a binary frame gets an
 * `invalid_event` error, as live.
 */
export function onTextFrames(
  socket: WebSocket,
  sink: Sink,
  session: SessionCore<AnyServerEventBody>,
  handle: (text: string) => void,
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
    handle(ev.data);
  });
}
