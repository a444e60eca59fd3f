// @ts-check
/**
 * Banners from `GET /api/config`: offline demo, missing API key (and exactly where to set it),
 * and which caps protect a public page.
 *
 * @module
 */

/** The offline demo banner text. */
export const DEMO_TEXT =
  "offline demo — transcripts are placeholders, set OPENAI_API_KEY for real ones";

/**
 * @param {string} kind info | warn
 * @param {(string|Node)[]} parts
 */
function banner(kind, parts) {
  const div = document.createElement("div");
  div.className = `banner ${kind}`;
  div.setAttribute("role", "note");
  div.append(...parts);
  return div;
}

/** @param {string} text */
function code(text) {
  const c = document.createElement("code");
  c.textContent = text;
  return c;
}

/**
 * Shows the banners the configuration calls for.
 *
 * @param {HTMLElement} container
 * @param {Record<string, any>} cfg the `/api/config` response
 */
export function showBanners(container, cfg) {
  container.replaceChildren();
  if (cfg.demo) {
    container.append(banner("info", [DEMO_TEXT]));
  }
  if (cfg.hasKey === false && !cfg.demo) {
    if (cfg.platform === "valtown") {
      const url = [cfg.keyHelp?.url, cfg.envVarsUrl]
        .find((u) => typeof u === "string" && /^https:\/\/(www\.)?val\.town\//.test(u));
      /** @type {(string|Node)[]} */
      const where = [
        "open this val in Val Town → sidebar → ",
        strong("Environment variables"),
      ];
      if (url) {
        where[0] = "open this val's ";
        const a = document.createElement("a");
        a.href = url;
        a.textContent = "Environment variables";
        a.rel = "noopener";
        where.splice(1, 1, a);
      }
      container.append(banner("warn", [
        strong("No OpenAI API key. "),
        "To turn transcription on, ",
        ...where,
        ", add ",
        code("OPENAI_API_KEY"),
        " with your key from platform.openai.com/api-keys, then reload this page.",
      ]));
    } else {
      container.append(banner("warn", [
        strong("No OpenAI API key. "),
        "Set ",
        code("OPENAI_API_KEY"),
        " in the server's environment (for example ",
        code("OPENAI_API_KEY=sk-… deno task start"),
        ") and restart it. Without a key, ",
        code("deno task start"),
        " runs the offline demo.",
      ]));
    }
  }
  const l = cfg.limits;
  if (cfg.access === "public") {
    if (l && typeof l === "object") {
      const caps = [];
      if (l.mintsPerMinutePerIp) {
        caps.push(`${l.mintsPerMinutePerIp} starts per minute`);
      }
      if (l.maxSessionSeconds) {
        caps.push(`${Math.round(l.maxSessionSeconds / 60)} min per session`);
      }
      if (l.dailyMinutesPerIp) {
        caps.push(`${l.dailyMinutesPerIp} min per day per visitor`);
      }
      if (caps.length) {
        container.append(banner("note", [
          `This page is public. Usage is capped: ${caps.join(", ")}.`,
        ]));
      }
    }
  }
}

/** @param {string} text */
function strong(text) {
  const s = document.createElement("strong");
  s.textContent = text;
  return s;
}
