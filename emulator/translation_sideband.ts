/**
 * WebSocket wiring of translation sessions, shared by the `/v1/realtime/translations` socket and
 * translation sidebands, and the sidebands themselves: whether a translation call takes one is
 * unknown (no public source shows one), so the `translationSideband` option decides (default
 * refused, i.e. the 404 of an unknown call). An allowed sideband gets the same translation events
 * as the data channel and may send the same client events.
 *
 * @module
 */
import type { ResolvedOptions } from "./options.ts";
import { type Handshake, onTextFrames, upgrade } from "./socket_handshake.ts";
import { type CallRecord, type EmulatorState, SocketSink } from "./state.ts";
import { handleTranslationClientText } from "./translation_client_events.ts";
import type { TranslationSession } from "./translation_engine.ts";

/** How long a call stays up after `session.closed`, so the event reaches every connection. */
export const CLOSED_EVENT_GRACE_MS = 250;

/** Whether a sideband on `url` may attach to a translation call. */
export function translationSidebandAllowed(
  state: EmulatorState,
  url: Exclude<ResolvedOptions["translationSideband"], "refused" | "both">,
): boolean {
  const allowed = state.options.translationSideband;
  return allowed === "both" || allowed === url;
}

/** Ends `call` shortly after its session sent `session.closed`. */
export function endAfterClosed(state: EmulatorState, call: CallRecord): void {
  state.track(
    new Promise<void>((resolve) =>
      setTimeout(() => {
        void state.endCall(call, "session.close").finally(resolve);
      }, CLOSED_EVENT_GRACE_MS)
    ),
  );
}

/**
 * Routes a socket's frames to a translation session: text frames are client events (binary ones
 * get `invalid_event`), `onClosed` runs after `session.close`, `onSocketClose` when the socket
 * closes.
 */
export function wireTranslationSocket(
  socket: WebSocket,
  sink: SocketSink,
  session: TranslationSession,
  state: EmulatorState,
  handlers: { onClosed(): void; onSocketClose(): void },
): void {
  onTextFrames(socket, sink, session, (text) =>
    handleTranslationClientText(text, {
      session,
      from: sink,
      rules: state.translationRules,
      updatedDelayMs: state.options.sessionUpdatedDelayMs,
      sidebandRefusesUpdates: state.options.sidebandRefusesUpdates,
      onClosed: handlers.onClosed,
    }));
  socket.addEventListener("close", handlers.onSocketClose);
}

/** Upgrades a sideband to a live translation call (the caller checked key, call and option). */
export function attachTranslationSideband(
  req: Request,
  state: EmulatorState,
  hs: Handshake,
  call: CallRecord,
): Response {
  const session = call.session as TranslationSession;
  const { socket, response } = upgrade(req, state, hs);
  const sink = new SocketSink(socket, "sideband");
  socket.addEventListener("open", () => {
    if (session.ended) return sink.close(1000, "");
    session.attach(sink, state.options.sidebandSessionCreated);
  });
  wireTranslationSocket(socket, sink, session, state, {
    // `session.close` closes the translation session itself, so the whole call ends.
    onClosed: () => endAfterClosed(state, call),
    onSocketClose: () => session.detach(sink),
  });
  return response;
}
