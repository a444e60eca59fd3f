// @ts-check
/**
 * The settings panel: the model catalog from `GET /api/models`, only the options the chosen model
 * accepts, remembered in localStorage, turned into the `POST /api/session` body.
 *
 * @module
 */

/**
 * One model from the catalog (see lib/models.ts).
 *
 * @typedef {{ id: string, label: string, status: string, shutdownDate: string|null,
 *   supports: { prompt: boolean, keywords: boolean, languages: boolean, delay: boolean,
 *   logprobs: boolean, turnDetection: boolean, turnDetectionTypes?: readonly string[],
 *   noiseReductionStrength?: boolean }, streamsWhileSpeaking?: boolean,
 *   pricePerMinuteUsd?: number|null }} ModelInfo
 */

/** @typedef {typeof DEFAULTS} Settings */

const STORAGE_KEY = "hello-transcription.settings.v1";

/** Settings before the person changes anything. */
export const DEFAULTS = {
  model: "",
  language: "",
  languages: "",
  prompt: "",
  keywords: "",
  delay: "",
  noise: "off",
  noiseStrength: 1,
  turn: "server_vad",
  threshold: 0.5,
  prefixMs: 300,
  silenceMs: 500,
  eagerness: "auto",
  pageSilenceMs: 700,
  logprobs: true,
  /** Translation languages, comma separated (the "Translate to" multi-select). */
  translations: "",
};

// ISO-639-1 codes; names come from Intl.DisplayNames in the person's own language.
const LANGS = ("af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr " +
  "gl gu ha he hi hr ht hu hy id is it ja jv ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn " +
  "mr ms mt my ne nl nn no oc pa pl ps pt ro ru sa sd si sk sl sn so sq sr su sv sw ta te tg " +
  "th tk tl tr tt uk ur uz vi yi yo zh").split(" ");

/**
 * Reads saved settings (unknown keys and wrong types are dropped).
 *
 * @returns {Settings}
 */
export function loadSettings() {
  /** @type {Settings} */
  const s = { ...DEFAULTS };
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "{}");
    for (
      const key of /** @type {(keyof Settings)[]} */ (Object.keys(DEFAULTS))
    ) {
      if (saved && typeof saved[key] === typeof DEFAULTS[key]) {
        /** @type {any} */ (s)[key] = saved[key];
      }
    }
  } catch { /* private mode or corrupt value: defaults */ }
  return s;
}

/** @param {Settings} s */
function saveSettings(s) {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(s));
  } catch { /* storage unavailable: settings last for this visit */ }
}

/** @param {string} v */
function list(v) {
  return v.split(",").map((x) => x.trim()).filter(Boolean);
}

/**
 * True when the page (not the server) must commit turns for these settings.
 *
 * @param {Settings} s
 * @param {ModelInfo|undefined} model
 */
export function pageCommits(s, model) {
  return !model?.supports.turnDetection || s.turn === "manual";
}

/**
 * The `POST /api/session` body for these settings: only options the model accepts.
 *
 * @param {Settings} s
 * @param {ModelInfo|undefined} model
 * @returns {Record<string, unknown>}
 */
export function buildSessionOptions(s, model) {
  /** @type {Record<string, unknown>} */
  const o = {};
  if (model) o.model = model.id;
  const sup = model?.supports;
  if (s.language) o.language = s.language;
  if (sup?.languages && list(s.languages).length) {
    o.languages = list(s.languages);
  }
  if (sup?.prompt && s.prompt.trim()) o.prompt = s.prompt.trim();
  if (sup?.keywords && list(s.keywords).length) o.keywords = list(s.keywords);
  if (sup?.delay && s.delay) o.delay = s.delay;
  if (sup?.logprobs) o.logprobs = s.logprobs;
  o.noiseReduction = s.noise;
  if (s.noise !== "off" && sup?.noiseReductionStrength !== false) {
    o.noiseReductionStrength = s.noiseStrength;
  }
  if (list(s.translations).length) o.translations = list(s.translations);
  if (pageCommits(s, model)) o.turnDetection = { type: "none" };
  else if (s.turn === "semantic_vad") {
    o.turnDetection = { type: s.turn, eagerness: s.eagerness };
  } else {
    o.turnDetection = {
      type: "server_vad",
      threshold: s.threshold,
      prefixPaddingMs: s.prefixMs,
      silenceDurationMs: s.silenceMs,
    };
  }
  return o;
}

/**
 * Binds the settings form: fills the model and language lists, restores saved values, shows only
 * the fields the chosen model accepts, saves on every change.
 *
 * `translation` (`GET /api/config`) fills the "Translate to" list and its price note.
 *
 * @param {{ form: HTMLFormElement, models: ModelInfo[], defaultModel?: string,
 *   onChange?: (s: Settings) => void, translation?: { max: number, pricePerMinuteUsd: number,
 *   callLimit?: number|null,
 *   languages: { code: string, name: string, nativeName: string }[] } }} options
 */
export function bindSettings({ form, models, defaultModel, onChange, translation }) {
  const s = loadSettings();
  const $ = (
    /** @type {string} */ name,
  ) => /** @type {HTMLInputElement} */ (form.elements.namedItem(name));
  const modelSelect = /** @type {HTMLSelectElement} */ (/** @type {unknown} */ ($("model")));
  modelSelect.replaceChildren();
  for (const m of models) {
    // The price per minute of audio, as OpenAI lists it (lib/models.ts).
    const price = typeof m.pricePerMinuteUsd === "number" ? ` · $${m.pricePerMinuteUsd}/min` : "";
    const opt = new Option(
      m.status === "deprecated" && m.shutdownDate
        ? `${m.label}${price} — deprecated, shuts down ${m.shutdownDate}`
        : `${m.label}${price}`,
      m.id,
    );
    modelSelect.append(opt);
  }
  if (!models.some((m) => m.id === s.model)) {
    s.model = models.find((m) => m.id === defaultModel)?.id ??
      models.find((m) => m.status === "current")?.id ?? models[0]?.id ?? "";
  }
  const langSelect = /** @type {HTMLSelectElement} */ (/** @type {unknown} */ ($("language")));
  /** @type {Intl.DisplayNames|null} */
  let names = null;
  try {
    names = new Intl.DisplayNames([navigator.language, "en"], {
      type: "language",
    });
  } catch { /* old browser: codes only */ }
  const langs = LANGS.map((code) => ({ code, name: names?.of(code) ?? code }))
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const l of langs) {
    langSelect.append(new Option(`${l.name} (${l.code})`, l.code));
  }

  const translateTo = /** @type {HTMLSelectElement|null} */ (form.querySelector("#translations"));
  const offered = translation?.languages ?? [];
  // Saved languages this server no longer offers are dropped.
  s.translations = list(s.translations).filter((c) => offered.some((l) => l.code === c))
    .slice(0, translation?.max ?? 0).join(",");
  for (const l of offered) {
    translateTo?.append(
      new Option(l.nativeName === l.name ? l.name : `${l.name} (${l.nativeName})`, l.code),
    );
  }
  for (const [key, value] of Object.entries(s)) {
    const el = $(key);
    if (!el) continue;
    if (translateTo && key === "translations") {
      for (const opt of translateTo.options) {
        opt.selected = list(s.translations).includes(opt.value);
      }
    } else if (el.type === "checkbox") el.checked = Boolean(value);
    else el.value = String(value);
  }

  const model = () => models.find((m) => m.id === s.model);
  const sync = () => {
    const m = model();
    const sup = m?.supports;
    const clientCommits = pageCommits(s, m);
    /** @type {Record<string, boolean>} */
    const show = {
      languages: Boolean(sup?.languages),
      prompt: Boolean(sup?.prompt),
      keywords: Boolean(sup?.keywords),
      delay: Boolean(sup?.delay),
      logprobs: Boolean(sup?.logprobs),
      "noise-strength": s.noise !== "off" && sup?.noiseReductionStrength !== false,
      server_vad: !clientCommits && s.turn === "server_vad",
      semantic_vad: !clientCommits && s.turn === "semantic_vad",
      client: clientCommits,
    };
    for (const el of form.querySelectorAll("[data-when]")) {
      /** @type {HTMLElement} */ (el).hidden =
        !show[/** @type {HTMLElement} */ (el).dataset.when ?? ""];
    }
    const turn = /** @type {HTMLSelectElement} */ (/** @type {unknown} */ ($("turn")));
    const kinds = sup?.turnDetectionTypes ??
      (sup?.turnDetection ? ["server_vad", "semantic_vad"] : []);
    for (const opt of turn.options) {
      opt.disabled = opt.value !== "manual" && !kinds.includes(opt.value);
    }
    if (!sup?.turnDetection) turn.value = "manual";
    else turn.value = s.turn;
    const note = /** @type {HTMLElement} */ (form.querySelector("#model-note"));
    const notes = [];
    if (m?.status === "deprecated") {
      notes.push(
        `Deprecated: OpenAI shuts this model down on ${m.shutdownDate}.`,
      );
    }
    if (!sup?.turnDetection) {
      notes.push("This model has no server VAD: this page ends each turn.");
    }
    if (m?.streamsWhileSpeaking) notes.push("Text streams while you speak.");
    note.textContent = notes.join(" ");
    note.hidden = notes.length === 0;
    const trNote = form.querySelector("#translation-note");
    if (trNote) {
      const n = list(s.translations).length;
      const price = translation?.pricePerMinuteUsd ?? 0;
      trNote.textContent = offered.length === 0
        ? "This server translates nothing."
        : n === 0
        ? `Up to ${translation?.max} languages, $${price}/min each (each is one more live call).`
        : `${n} translation call${n > 1 ? "s" : ""}: $${(n * price).toFixed(3)}/min on top of ` +
          `the transcription; this session counts as ${n + 1} live calls` +
          (translation?.callLimit ? ` (you may hold ${translation.callLimit} at once).` : ".");
    }
    for (const out of form.querySelectorAll("output")) {
      const key = out.id.replace(/-out$/, "");
      const v = /** @type {any} */ (s)[key];
      out.textContent = key.endsWith("Ms") ? `${v} ms` : String(v);
    }
  };

  form.addEventListener("input", (ev) => {
    const el = /** @type {HTMLInputElement} */ (ev.target);
    const key = /** @type {keyof Settings} */ (el.name);
    if (!(key in DEFAULTS)) return;
    const def = DEFAULTS[key];
    /** @type {any} */ (s)[key] = el.type === "select-multiple"
      ? [.../** @type {HTMLSelectElement} */ (/** @type {unknown} */ (el)).selectedOptions]
        .map((o) => o.value).join(",")
      : el.type === "checkbox"
      ? el.checked
      : typeof def === "number"
      ? Number(el.value)
      : el.value;
    saveSettings(s);
    sync();
    onChange?.(s);
  });
  form.addEventListener("submit", (ev) => ev.preventDefault());
  sync();
  return {
    /** Current settings (live object). */
    settings: s,
    /** The chosen model's catalog entry. */
    model,
    /** Enables or disables every field (while a session runs). */
    setDisabled(/** @type {boolean} */ disabled) {
      for (const el of form.elements) {
        // The page's pause length stays tunable while a session runs.
        if (/** @type {HTMLInputElement} */ (el).name !== "pageSilenceMs") {
          /** @type {HTMLInputElement} */ (el).disabled = disabled;
        }
      }
      if (!disabled) sync();
    },
  };
}
