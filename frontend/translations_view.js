// @ts-check
/**
 * Drawing translations: under each caption line its translations (one paragraph per language,
 * `lang` set), text not yet under a line as a streaming "pending" line, the per-language state
 * chips with Play (translated speech starts muted) and Retry, and the caption-mode language.
 * Used by the page ({@linkcode bindTranslations}) and the share viewer ({@linkcode TranslationLines}).
 * Text goes in through `textContent` only.
 *
 * @module
 */
import { alignTranslations, placeDeltas } from "../shared/translations.js";
import { createTranslations } from "./translations.js";
import { connectTranslation } from "./translation_calls.js";

/** @typedef {import("../shared/translations.js").TranslationDelta} TranslationDelta */
/** @typedef {import("../shared/translations.js").TimedLine} TimedLine */

/**
 * @param {string} tag
 * @param {string} className
 * @param {string} [text]
 */
function el(tag, className, text) {
  const e = document.createElement(tag);
  e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Translations under the lines of a transcript `<ol>` (`li[data-item-id]`, `view.js`). */
export class TranslationLines {
  /** @type {Map<string, string>} */
  #names = new Map();

  /**
   * @param {{ list: HTMLElement, pending: HTMLElement }} elements
   */
  constructor(elements) {
    this.list = elements.list;
    this.pending = elements.pending;
    /** Languages drawn (null: all of them). @type {string[]|null} */
    this.only = null;
  }

  /** Names for the labels. @param {{ language?: string, code?: string, name: string }[]} langs */
  names(langs) {
    for (const l of langs) this.#names.set(l.language ?? l.code ?? "", l.name);
  }

  /**
   * Redraws every line's translations.
   *
   * @param {Iterable<TimedLine>} lines the caption lines with their session times
   * @param {Iterable<TranslationDelta>} deltas
   */
  draw(lines, deltas) {
    const { byLine, pending } = alignTranslations(lines, deltas);
    const shown = (/** @type {string} */ lang) => this.only === null || this.only.includes(lang);
    for (const li of this.list.querySelectorAll("li[data-item-id]")) {
      const item = /** @type {HTMLElement} */ (li).dataset.itemId ?? "";
      const langs = byLine.get(item);
      let box = /** @type {HTMLElement|null} */ (li.querySelector(":scope > .translations"));
      if (!langs || langs.size === 0) {
        box?.remove();
        continue;
      }
      if (!box) li.append(box = el("div", "translations"));
      this.#fill(box, langs, shown, "p");
    }
    this.#fill(this.pending, pending, shown, "p");
    this.pending.hidden = ![...pending.keys()].some(shown);
  }

  /**
   * @param {HTMLElement} box
   * @param {Map<string, string>} langs
   * @param {(lang: string) => boolean} shown
   * @param {string} tag
   */
  #fill(box, langs, shown, tag) {
    for (const node of [...box.children]) {
      const lang = /** @type {HTMLElement} */ (node).lang;
      if (!langs.has(lang) || !shown(lang)) node.remove();
    }
    for (const [lang, text] of langs) {
      if (!shown(lang) || !text) continue;
      let p = /** @type {HTMLElement|null} */ (box.querySelector(`:scope > [lang="${lang}"]`));
      if (!p) {
        p = el(tag, "translation");
        p.lang = lang;
        p.dataset.lang = lang;
        p.append(el("span", "tr-lang", this.#names.get(lang) ?? lang), el("span", "tr-text"));
        box.append(p);
      }
      /** @type {HTMLElement} */ (p.querySelector(".tr-text")).textContent = text;
      // Caption mode may show one chosen language instead of the original.
      p.classList.toggle("chosen", lang === (document.body.dataset.captionLang ?? ""));
    }
  }
}

/**
 * This session's caption lines on the session's clock (the timeline shifts them to follow the
 * lines of earlier sessions; translation times start at 0 with this session).
 *
 * @param {import("./timeline.js").Timeline} timeline
 * @returns {TimedLine[]}
 */
export function captionLines(timeline) {
  const back = (/** @type {number|null} */ v) => v === null ? null : v - timeline.offsetMs;
  return timeline.all().slice(timeline.archived.length).map((u) => ({
    itemId: u.itemId,
    startMs: back(u.startMs),
    endMs: back(u.endMs),
  }));
}

/**
 * The page's translations: the calls (`translations.js`), the lines under the captions, the
 * state chips with Play and Retry, and the caption-mode language picker.
 *
 * @param {{
 *   byId: (id: string) => HTMLElement,
 *   lines: import("./captions.js").CaptionView,
 *   timeline: import("./timeline.js").Timeline,
 *   connect?: Parameters<typeof createTranslations>[0]["connect"],
 * }} options
 */
export function bindTranslations(options) {
  const { byId } = options;
  const drawn = new TranslationLines({
    list: byId("transcript"),
    pending: byId("translation-pending"),
  });
  const chips = byId("translation-status");
  const captionLang = /** @type {HTMLSelectElement} */ (byId("caption-lang"));
  /** @type {Map<string, HTMLAudioElement>} */
  const players = new Map();
  let scheduled = false;
  const redraw = () => {
    if (scheduled) return;
    scheduled = true;
    setTimeout(() => {
      scheduled = false;
      drawn.draw(captionLines(options.timeline), calls.deltas());
    }, 30);
  };
  const calls = createTranslations({
    connect: options.connect ?? connectTranslation,
    place: (deltas) => placeDeltas(captionLines(options.timeline), deltas),
    view: {
      languages(targets) {
        drawn.names(targets);
        chips.replaceChildren();
        for (const p of players.values()) p.remove();
        players.clear();
        captionLang.replaceChildren(new Option("Original", ""));
        for (const t of targets) {
          captionLang.append(new Option(t.name, t.language));
          const chip = el("span", "tr-chip");
          chip.dataset.lang = t.language;
          const play = /** @type {HTMLButtonElement} */ (el("button", "tr-play", `Play ${t.name}`));
          play.type = "button";
          play.setAttribute("aria-pressed", "false");
          play.disabled = true;
          play.addEventListener("click", () => {
            const audio = players.get(t.language);
            if (!audio) return;
            audio.muted = !audio.muted;
            play.setAttribute("aria-pressed", String(!audio.muted));
            if (!audio.muted) void audio.play().catch(() => {});
          });
          const retry = /** @type {HTMLButtonElement} */ (el("button", "tr-retry", "Retry"));
          retry.type = "button";
          retry.hidden = true;
          retry.addEventListener("click", () => calls.retry(t.language));
          chip.append(el("span", "tr-state", `${t.name}: connecting`), play, retry);
          chips.append(chip);
        }
        chips.hidden = targets.length === 0;
        captionLang.hidden = targets.length === 0;
        byId("caption-lang-label").hidden = targets.length === 0;
      },
      state(language, state, message) {
        const chip = chips.querySelector(`[data-lang="${language}"]`);
        if (!chip) return;
        /** @type {HTMLElement} */ (chip).dataset.state = state;
        const name = /** @type {HTMLElement} */ (chip.querySelector(".tr-play")).textContent
          ?.replace(/^Play /, "");
        /** @type {HTMLElement} */ (chip.querySelector(".tr-state")).textContent = `${name}: ${
          message ? "stopped" : state
        }`;
        /** @type {HTMLElement} */ (chip).title = message ?? "";
        /** @type {HTMLButtonElement} */ (chip.querySelector(".tr-retry")).hidden =
          state !== "stopped";
      },
      speech(language, stream) {
        players.get(language)?.remove();
        const audio = document.createElement("audio");
        audio.autoplay = true;
        audio.muted = true; // translated speech stays silent until Play
        audio.srcObject = stream;
        audio.dataset.lang = language;
        audio.hidden = true;
        document.body.append(audio);
        players.set(language, audio);
        const play = chips.querySelector(`[data-lang="${language}"] .tr-play`);
        if (play) {
          /** @type {HTMLButtonElement} */ (play).disabled = false;
          play.setAttribute("aria-pressed", "false");
        }
      },
      changed: redraw,
    },
  });
  captionLang.addEventListener("change", () => {
    const lang = captionLang.value;
    document.body.dataset.captionLang = lang;
    document.body.classList.toggle("caption-translated", lang !== "");
    for (const p of document.querySelectorAll(".translation")) {
      p.classList.toggle("chosen", /** @type {HTMLElement} */ (p).lang === lang);
    }
  });
  /** @type {import("./captions.js").CaptionView} */
  const lines = {
    render(u, facts) {
      options.lines.render(u, facts);
      redraw();
    },
    order: (ordered) => options.lines.order(ordered),
    clear() {
      options.lines.clear();
      redraw();
    },
  };
  return { calls, lines };
}

/**
 * The share viewer's translations: a language picker (original or one of the session's
 * languages, `?lang=` in the URL), the chosen language drawn as each line, the download links
 * following it, and deltas from `GET /api/sessions/:id` and the stream's `translation` messages.
 *
 * @param {{ byId: (id: string) => HTMLElement, sessionId: string,
 *   lines: () => Iterable<TimedLine> }} options
 */
export function bindViewerTranslations(options) {
  const { byId } = options;
  const drawn = new TranslationLines({
    list: byId("transcript"),
    pending: byId("translation-pending"),
  });
  /** @type {Map<string, TranslationDelta>} */
  const deltas = new Map();
  const select = /** @type {HTMLSelectElement} */ (byId("lang"));
  const redraw = () => {
    if (deltas.size === 0 && !select.value) return;
    const lang = select.value;
    drawn.only = lang ? [lang] : [];
    document.body.classList.toggle("viewer-translated", lang !== "");
    drawn.draw(options.lines(), deltas.values());
  };
  const setDownloads = () => {
    const lang = select.value;
    for (const a of document.querySelectorAll("a[data-format]")) {
      const format = /** @type {HTMLElement} */ (a).dataset.format;
      a.setAttribute(
        "href",
        `/api/sessions/${encodeURIComponent(options.sessionId)}/transcript?format=${format}` +
          `&download=1${lang && format !== "json" ? `&lang=${lang}` : ""}`,
      );
    }
  };
  /** @param {unknown} list */
  const add = (list) => {
    if (!Array.isArray(list)) return;
    for (const d of list) {
      if (d && typeof d.eventId === "string") deltas.set(`${d.language}\u0000${d.eventId}`, d);
    }
    redraw();
  };
  return {
    /**
     * Offers the session's languages (names from `GET /api/config`) and draws its deltas.
     * @param {{ languages?: unknown, deltas?: unknown }} translations from `GET /api/sessions/:id`
     * @param {{ code: string, name: string }[]} names
     */
    offer(translations, names) {
      const languages = Array.isArray(translations?.languages)
        ? translations.languages.filter((x) => typeof x === "string")
        : [];
      if (languages.length === 0) return;
      drawn.names(names.filter((n) => languages.includes(n.code)));
      for (const code of languages) {
        select.append(new Option(names.find((n) => n.code === code)?.name ?? code, code));
      }
      select.hidden = false;
      byId("lang-label").hidden = false;
      const asked = new URLSearchParams(location.search).get("lang") ?? "";
      select.value = languages.includes(asked) ? asked : "";
      select.addEventListener("change", () => {
        const url = new URL(location.href);
        if (select.value) url.searchParams.set("lang", select.value);
        else url.searchParams.delete("lang");
        history.replaceState(null, "", url);
        setDownloads();
        redraw();
      });
      setDownloads();
      add(translations.deltas);
    },
    add,
    redraw,
  };
}
