// @ts-check
/**
 * Getting the transcript out of the page: copy it as text, download it (TXT, SRT, VTT, JSON; the
 * formats of `shared/formats.js`, which the server's exports use too), and the share link of the
 * stored session (`/s/:id`, the read-only viewer).
 *
 * @module
 */
import { toJson, toSrt, toTxt, toVtt } from "../shared/formats.js";

/** @typedef {import("../shared/transcript.js").Utterance} Utterance */

/**
 * Copies text to the clipboard (falls back to a hidden textarea where the API is refused).
 *
 * @param {string} text
 */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = document.createElement("textarea");
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
}

/**
 * Downloads the transcript in one format, named `transcript-YYYYMMDDTHHMM.<kind>`.
 *
 * @param {string} kind `txt`, `srt`, `vtt` or `json`
 * @param {Utterance[]} list lines in order
 * @param {Record<string, unknown>} meta for JSON (session id, model, …)
 */
export function downloadTranscript(kind, list, meta) {
  const ext = ["srt", "vtt", "json"].includes(kind) ? kind : "txt";
  const [text, type] = ext === "srt"
    ? [toSrt(list), "application/x-subrip"]
    : ext === "vtt"
    ? [toVtt(list), "text/vtt"]
    : ext === "json"
    ? [toJson(list, meta), "application/json"]
    : [toTxt(list), "text/plain"];
  const url = URL.createObjectURL(
    new Blob([text], { type: `${type};charset=utf-8` }),
  );
  const a = document.createElement("a");
  a.href = url;
  const stamp = new Date().toISOString().slice(0, 16).replace(/[-:]/g, "");
  a.download = `transcript-${stamp}.${ext}`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/**
 * The share link of a stored session.
 *
 * @param {string} origin the page's origin (`location.origin`)
 * @param {string} sessionId
 */
export function shareUrl(origin, sessionId) {
  return `${origin}/s/${encodeURIComponent(sessionId)}`;
}

/**
 * Copies the transcript as text.
 *
 * @param {Utterance[]} list lines in order
 * @returns {Promise<boolean>} false when there was nothing to copy yet
 */
async function copyTranscript(list) {
  const text = toTxt(list);
  await copyText(text);
  return text !== "";
}

/**
 * Copies a share link.
 *
 * @param {string} url
 * @returns {Promise<boolean>} false when the clipboard refused (the page shows the link instead)
 */
async function copyShareLink(url) {
  try {
    await navigator.clipboard.writeText(url);
    return true;
  } catch {
    return false;
  }
}

/**
 * The page's copy, export and share actions (`lazy.js` binds the buttons and loads this module on
 * the first press).
 *
 * @param {{
 *   lines: () => Utterance[],
 *   sessionId: () => string | null,
 *   model: () => string | null,
 *   show: { toast(text: string): void, message(text: string): void },
 * }} page
 */
export function sharingActions(page) {
  const copy = async () => {
    page.show.toast(await copyTranscript(page.lines()) ? "Copied" : "Nothing to copy yet");
  };
  /** @param {string} kind */
  const exportAs = (kind) =>
    downloadTranscript(kind, page.lines(), {
      sessionId: page.sessionId(),
      model: page.model(),
      exportedAt: new Date().toISOString(),
    });
  const share = async () => {
    const id = page.sessionId();
    if (!id) return;
    const url = shareUrl(location.origin, id);
    if (await copyShareLink(url)) page.show.toast("Share link copied");
    else page.show.message(`Share link: ${url}`);
  };
  return { copy, exportAs, share };
}
