// @ts-check
/**
 * The read-only share viewer (`/s/:id`): loads the session and its stored utterances, then, while
 * the call runs, follows `/api/sessions/:id/events` (Server-Sent Events) and folds the raw events
 * with the same reducer the page and the server use. A `call` message says which call the next
 * events came from and its offset on the session's clock, which the fold adds to their audio times
 * as the Store does. Text goes in through `textContent` only (via `TranscriptView`). Caption mode
 * (projection) lives in `viewer_captions.js`.
 *
 * @module
 */
import { itemIdOf, orderUtterances, reduceUtterance } from "../shared/transcript.js";
import { utteranceFromRow } from "../shared/utterance_row.js";
import { TranscriptView } from "./view.js";
import { noteConfidence } from "./line_notes.js";
import { bindCaptionMode } from "./viewer_captions.js";
import { bindViewerTranslations } from "./translations_view.js";

/** @typedef {import("../shared/transcript.js").Utterance} Utterance */

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const status = $("status");
const message = $("message");
const list = /** @type {HTMLOListElement} */ ($("transcript"));
// Follows the speaker (`follow_live.js`); the "Jump to live" button appears once scrolled away.
const jump = Object.assign(document.createElement("button"), {
  type: "button",
  className: "jump",
  hidden: true,
});
$("transcript").after(jump);
const view = new TranscriptView({
  list,
  empty: $("empty"),
  announcer: $("announcer"),
  jump,
});
/** @type {Map<string, Utterance>} */
const utterances = new Map();
/** The offset of the call whose events come next (from the stream's `call` messages). */
let callOffsetMs = 0;

/**
 * Sets the status line; `role=status` reads every change out, so an unchanged status is left
 * alone (the stream would otherwise say "Live" on every event).
 *
 * @param {string} text
 * @param {string} state
 */
function setStatus(text, state) {
  status.dataset.state = state;
  if (status.textContent !== text) status.textContent = text;
}

/** @param {string} text */
function showMessage(text) {
  message.textContent = text;
  $("banner").hidden = false;
}

/** Re-orders the lines after a change. */
function reorder() {
  view.order(orderUtterances(utterances.values()));
}

/** Draws one utterance and what its line says about confidence. @param {Utterance} u */
function draw(u) {
  view.render(u);
  const li = list.querySelector(`[data-item-id="${CSS.escape(u.itemId)}"]`);
  if (!li) return;
  noteConfidence(/** @type {HTMLElement} */ (li), u);
  // A line without audio times (a turn the page committed) shows no "–:––" placeholder.
  const time = /** @type {HTMLElement | null} */ (li.querySelector(".start"));
  if (time) time.hidden = u.startMs === null;
}

/** @param {unknown} event one raw server event from the stream */
function apply(event) {
  const itemId = itemIdOf(event);
  if (!itemId) return;
  const next = reduceUtterance(utterances.get(itemId), event, { offsetMs: callOffsetMs });
  if (!next) return;
  utterances.set(itemId, next);
  draw(next);
  reorder();
  translated?.redraw();
}
/** Translations of the session, when it has any (`?lang=`). @type {ReturnType<typeof bindViewerTranslations>|null} */
let translated = null;

/**
 * @param {{ createdAt: number, startedAt: number|null, endedAt: number|null }} session
 */
function showMeta(session) {
  const started = new Date(session.startedAt ?? session.createdAt);
  const parts = [`Started ${started.toLocaleString()}`];
  if (session.endedAt) {
    const seconds = Math.round((session.endedAt - started.getTime()) / 1000);
    parts.push(`lasted ${Math.floor(seconds / 60)} min ${seconds % 60} s`);
  }
  $("meta").textContent = parts.join(" · ");
}

/** @param {{ status: string, endReason: string|null }} session */
function showEnded(session) {
  const failed = session.status === "failed";
  setStatus(
    failed ? "Ended with an error" : "Ended",
    failed ? "error" : "idle",
  );
}

async function main() {
  bindCaptionMode($);
  $("dismiss").addEventListener("click", () => {
    $("banner").hidden = true;
    list.focus();
  });
  const id = decodeURIComponent(
    location.pathname.split("/").filter(Boolean).pop() ?? "",
  );
  for (const a of document.querySelectorAll("a[data-format]")) {
    const format = /** @type {HTMLElement} */ (a).dataset.format;
    a.setAttribute(
      "href",
      `/api/sessions/${encodeURIComponent(id)}/transcript?format=${format}&download=1`,
    );
  }
  const res = await fetch(`/api/sessions/${encodeURIComponent(id)}`, {
    cache: "no-store",
  });
  if (!res.ok) {
    setStatus("Not found", "error");
    showMessage(
      res.status === 404 || res.status === 400
        ? "This transcript does not exist, or it was deleted."
        : "The transcript cannot be loaded right now. Reload to try again.",
    );
    return;
  }
  const detail = await res.json();
  /** @type {{ status: string, model: string, createdAt: number, startedAt: number|null,
   *   endedAt: number|null, endReason: string|null }} */
  const session = detail.session;
  showMeta(session);
  // The backlog is drawn, not read out: only lines that arrive while the reader is here are.
  const announcer = view.announcer;
  view.announcer = document.createElement("div");
  for (const row of detail.utterances) {
    const u = utteranceFromRow(row);
    utterances.set(u.itemId, u);
    draw(u);
  }
  reorder();
  view.announcer = announcer;
  const tr = detail.translations ?? {};
  if (Array.isArray(tr.languages) && tr.languages.length) {
    translated = bindViewerTranslations({
      byId: $,
      sessionId: id,
      lines: () => utterances.values(),
    });
    const config = await fetch("/api/config").then((r) => r.json()).catch(() => ({}));
    translated.offer(tr, config?.translation?.languages ?? []);
  }
  if (session.status === "ended" || session.status === "failed") {
    showEnded(session);
    return;
  }
  const waiting = () => setStatus("Waiting for the call to start", "connecting");
  if (session.status === "live") setStatus("Live", "live");
  else waiting();
  const source = new EventSource(
    `/api/sessions/${encodeURIComponent(id)}/events?after=${Number(detail.lastSeq) || 0}` +
      (translated ? `&translationsAfter=${Number(tr.lastSeq) || 0}` : ""),
  );
  source.addEventListener("translation", (m) => {
    translated?.add(JSON.parse(/** @type {MessageEvent} */ (m).data)?.deltas);
  });
  source.onmessage = (m) => {
    setStatus("Live", "live");
    apply(JSON.parse(m.data));
  };
  source.onopen = () => {
    if (status.dataset.state === "connecting" && status.textContent === "Reconnecting…") {
      setStatus("Live", "live");
    }
  };
  source.addEventListener("call", (m) => {
    const offset = Number(JSON.parse(/** @type {MessageEvent} */ (m).data)?.offsetMs);
    callOffsetMs = Number.isFinite(offset) ? offset : 0;
  });
  source.addEventListener("end", (m) => {
    source.close();
    const ended = JSON.parse(/** @type {MessageEvent} */ (m).data);
    showMeta(ended);
    showEnded(ended);
  });
  source.addEventListener("gone", () => {
    source.close();
    setStatus("Deleted", "error");
    showMessage("This transcript was deleted.");
  });
  // EventSource reconnects by itself and resumes with Last-Event-ID.
  source.onerror = () => {
    if (source.readyState !== EventSource.CLOSED) {
      setStatus("Reconnecting…", "connecting");
    }
  };
}

main().catch(() => {
  setStatus("Error", "error");
  showMessage("The transcript cannot be shown. Reload to try again.");
});
