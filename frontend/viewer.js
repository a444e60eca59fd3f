// @ts-check
/**
 * The read-only share viewer (`/s/:id`): loads the session and its stored utterances, then, while
 * the call runs, follows `/api/sessions/:id/events` (Server-Sent Events) and folds the raw events
 * with the same reducer the page and the server use. A `call` message says which call the next
 * events came from and its offset on the session's clock, which the fold adds to their audio times
 * as the Store does. Text goes in through `textContent` only (via `TranscriptView`).
 *
 * @module
 */
import { itemIdOf, orderUtterances, reduceUtterance } from "../shared/transcript.js";
import { utteranceFromRow } from "../shared/utterance_row.js";
import { TranscriptView } from "./view.js";
import { TranslationLines } from "./translations_view.js";

/** @typedef {import("../shared/transcript.js").Utterance} Utterance */

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const status = $("status");
const message = $("message");
const view = new TranscriptView({
  list: /** @type {HTMLOListElement} */ ($("transcript")),
  empty: $("empty"),
  announcer: $("announcer"),
});
/** @type {Map<string, Utterance>} */
const utterances = new Map();
/** The offset of the call whose events come next (from the stream's `call` messages). */
let callOffsetMs = 0;
// Translations: the reader picks one language (`?lang=es`), drawn under or instead of each line.
const translated = new TranslationLines({
  list: $("transcript"),
  pending: $("translation-pending"),
});
/** @type {Map<string, import("../shared/translations.js").TranslationDelta>} */
const deltas = new Map();
const langSelect = /** @type {HTMLSelectElement} */ ($("lang"));

/** @param {unknown} list deltas from the API (`GET /api/sessions/:id`, the `translation` event) */
function addDeltas(list) {
  if (!Array.isArray(list)) return;
  for (const d of list) {
    if (d && typeof d.eventId === "string") deltas.set(`${d.language}\u0000${d.eventId}`, d);
  }
  drawTranslations();
}

function drawTranslations() {
  const lang = langSelect.value;
  translated.only = lang ? [lang] : [];
  document.body.classList.toggle("viewer-translated", lang !== "");
  translated.draw(utterances.values(), deltas.values());
}

/**
 * Offers the session's languages; the URL's `?lang=` picks one.
 * @param {string[]} languages
 * @param {{ code: string, name: string }[]} names
 */
function offerLanguages(languages, names) {
  if (languages.length === 0) return;
  translated.names(names.filter((n) => languages.includes(n.code)));
  for (const code of languages) {
    langSelect.append(new Option(names.find((n) => n.code === code)?.name ?? code, code));
  }
  langSelect.hidden = false;
  $("lang-label").hidden = false;
  const asked = new URLSearchParams(location.search).get("lang") ?? "";
  langSelect.value = languages.includes(asked) ? asked : "";
  langSelect.addEventListener("change", () => {
    const url = new URL(location.href);
    if (langSelect.value) url.searchParams.set("lang", langSelect.value);
    else url.searchParams.delete("lang");
    history.replaceState(null, "", url);
    setDownloads();
    drawTranslations();
  });
}

/** Points the download links at the chosen language. */
function setDownloads() {
  const id = sessionIdOfPage();
  const lang = langSelect.value;
  for (const a of document.querySelectorAll("a[data-format]")) {
    const format = /** @type {HTMLElement} */ (a).dataset.format;
    a.setAttribute(
      "href",
      `/api/sessions/${encodeURIComponent(id)}/transcript?format=${format}&download=1${
        lang && format !== "json" ? `&lang=${lang}` : ""
      }`,
    );
  }
}

function sessionIdOfPage() {
  return decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() ?? "");
}

/**
 * @param {string} text
 * @param {string} state
 */
function setStatus(text, state) {
  status.textContent = text;
  status.dataset.state = state;
}

/** @param {string} text */
function showMessage(text) {
  message.textContent = text;
  message.hidden = false;
}

/** Re-orders the lines after a change. */
function reorder() {
  view.order(orderUtterances(utterances.values()));
}

/** @param {unknown} event one raw server event from the stream */
function apply(event) {
  const itemId = itemIdOf(event);
  if (!itemId) return;
  const next = reduceUtterance(utterances.get(itemId), event, { offsetMs: callOffsetMs });
  if (!next) return;
  utterances.set(itemId, next);
  view.render(next);
  reorder();
  if (deltas.size) drawTranslations();
}

/**
 * @param {{ model: string, status: string, createdAt: number, startedAt: number|null,
 *   endedAt: number|null, endReason: string|null }} session
 */
function showMeta(session) {
  const started = new Date(session.startedAt ?? session.createdAt);
  const parts = [
    `Model ${session.model}`,
    `started ${started.toLocaleString()}`,
  ];
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
  const id = sessionIdOfPage();
  setDownloads();
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
  for (const row of detail.utterances) {
    const u = utteranceFromRow(row);
    utterances.set(u.itemId, u);
    view.render(u);
  }
  reorder();
  const tr = detail.translations ?? {};
  const languages = Array.isArray(tr.languages) ? tr.languages : [];
  if (languages.length) {
    const config = await fetch("/api/config").then((r) => r.json()).catch(() => ({}));
    offerLanguages(languages, config?.translation?.languages ?? []);
    setDownloads();
    addDeltas(tr.deltas);
  }
  if (session.status === "ended" || session.status === "failed") {
    showEnded(session);
    return;
  }
  setStatus(
    session.status === "live" ? "Live" : "Waiting for the call to start",
    "live",
  );
  const source = new EventSource(
    `/api/sessions/${encodeURIComponent(id)}/events?after=${Number(detail.lastSeq) || 0}` +
      (languages.length ? `&translationsAfter=${Number(tr.lastSeq) || 0}` : ""),
  );
  source.addEventListener("translation", (m) => {
    addDeltas(JSON.parse(/** @type {MessageEvent} */ (m).data)?.deltas);
  });
  source.onmessage = (m) => {
    setStatus("Live", "live");
    apply(JSON.parse(m.data));
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
