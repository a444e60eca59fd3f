// @ts-check
/**
 * The page's status pill as a state machine: its states and labels, and what a status reported
 * by the live call (`connect()`'s `onStatus`) does to it. Pure: `live_session.js` carries the
 * actions out.
 *
 * States: `idle` → `starting` (Start pressed: minting, microphone, SDP, ICE) → `live` (the data
 * channel is open) → `stopping` (Stop pressed, pending text drains) → `idle`. A live call that
 * wobbles goes back to `starting` ("Reconnecting…") until it recovers, is handed over to a new
 * call, or ends.
 *
 * @module
 */

/**
 * What shows the status: the pill, the message box and the meters (the page: `view.js`
 * `StatusView`).
 *
 * @typedef {object} StatusPort
 * @property {string} state the pill's state now
 * @property {(state: string, text?: string) => void} set the pill's state and text
 * @property {(text: string|null, detail?: string|null) => void} message null hides the message
 *   box; `detail`: technical words for a disclosure
 * @property {(level: number) => void} level input level, 0..1
 * @property {(on: boolean) => void} speaking
 */

/** The pill's text for each state (and for the connection steps shown while starting). */
export const STATUS_LABELS = Object.freeze({
  idle: "Ready",
  starting: "Connecting…",
  live: "Live",
  stopping: "Finishing…",
  microphone: "Opening microphone…",
});

/** How long WebRTC may stay `disconnected` before an unwatched call counts as ended, ms. */
export const DISCONNECT_GRACE_MS = 4000;

/**
 * What the page does with one call status:
 * - `message`: say `text` (the call goes on);
 * - `show`: put the pill in `state` with `text` (undefined: the state's label);
 * - `grace`: show `state`/`text`, then end the session if the call is still not connected after
 *   `graceMs`;
 * - `end`: the call is over, ask the server why;
 * - `none`: nothing to show.
 *
 * @typedef {{ kind: "message", text: string }
 *   | { kind: "show", state: string, text?: string }
 *   | { kind: "grace", state: string, text: string, graceMs: number }
 *   | { kind: "end" }
 *   | { kind: "none" }} StatusAction
 */

/**
 * The transition for `status` of the live call.
 *
 * @param {string} status a `connect()` status (`microphone`, `negotiating`, `fallback`, a peer
 *   `connectionState`, `connected`, `sideband_failed`, `ended`)
 * @param {{ connected: boolean, watched: boolean }} call `connected`: `connect()` has resolved;
 *   `watched`: the call keeper watches the call (it moves a lost call to a new one itself)
 * @returns {StatusAction}
 */
export function statusAction(status, call) {
  // First: the sideband is attached while the call is still connecting.
  if (status === "sideband_failed") {
    return {
      kind: "message",
      text: "The server could not attach to this call: captions show here, and this page saves " +
        "the final lines to the server itself.",
    };
  }
  if (!call.connected) {
    return {
      kind: "show",
      state: "starting",
      text: /** @type {Record<string, string>} */ (STATUS_LABELS)[status],
    };
  }
  if (call.watched && (status === "failed" || status === "disconnected")) {
    return { kind: "show", state: "starting", text: "Reconnecting…" };
  }
  if (status === "closed" || status === "failed" || status === "ended") return { kind: "end" };
  if (status === "connected") return { kind: "show", state: "live" };
  // WebRTC may recover from "disconnected"; if it does not soon, the call is over.
  if (status === "disconnected") {
    return {
      kind: "grace",
      state: "starting",
      text: "Reconnecting…",
      graceMs: DISCONNECT_GRACE_MS,
    };
  }
  return { kind: "none" };
}

/**
 * What the page does with an `error` event of the live call: `expired` (the session reached
 * OpenAI's limit; terminal, OpenAI closes it right after), `message` (say it; the call goes on) or
 * `none` (an empty commit: the page committed silence).
 *
 * @param {Record<string, any>} event
 * @param {{ handingOver: boolean }} call during a handover the call being replaced may expire:
 *   the session goes on, so that is only said
 * @returns {{ kind: "expired" } | { kind: "message", text: string } | { kind: "none" }}
 */
export function errorAction(event, call) {
  const err = event.error ?? {};
  if (err.code === "session_expired" && !call.handingOver) return { kind: "expired" };
  if (err.code === "input_audio_buffer_commit_empty") return { kind: "none" };
  return {
    kind: "message",
    text: `OpenAI reported an error: ${err.message || err.code || "unknown"}.`,
  };
}
