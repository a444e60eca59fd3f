/**
 * Self-healing sessions: when OpenAI refuses a session option the catalog (`lib/models.ts`)
 * allowed — an `invalid_request_error` whose `param` or message names it — the mint is retried
 * once without that option, the page is told what was dropped and why, and the refusal is
 * remembered (a learned rule in the Store, per model and option) so later sessions leave the
 * option out without asking again. Learned rules expire after {@linkcode LEARNED_RULE_TTL_MS}, so
 * an API that starts taking the option again gets it back.
 *
 * {@linkcode HEALABLE_OPTIONS} is the one table: which option, how a refusal names it, and how
 * dropping it changes the settings (the session body is rebuilt from them, so the key's session,
 * the stored settings, the relay's call and the sideband's `session.update` all agree).
 *
 * @module
 */
import type { SessionSettings } from "./session_config.ts";
import type { LearnedRuleRow, Store } from "./store/types.ts";
import { redactSecrets, UpstreamError } from "./upstream.ts";
import { nextTurn } from "./next_turn.ts";
import type { Logger } from "./deps.ts";

/** How long a learned rule holds before the option is tried again: 7 days. */
export const LEARNED_RULE_TTL_MS = 7 * 24 * 3600_000;

/** How long one process trusts its copy of the learned rules before reading the Store again. */
export const LEARNED_RULES_CACHE_MS = 60_000;

/** One option OpenAI may refuse, how to recognise the refusal, and how to do without it. */
export interface HealableOption {
  /** The option's name in the session options (`POST /api/session`'s body). */
  option: string;
  /** What the page calls it, for the sentence it shows. */
  label: string;
  /** Matches OpenAI's `error.param` (the dotted session path, `session.` prefixed over REST). */
  param: RegExp;
  /** Matches OpenAI's message when it gives no param (or one we do not know). */
  message: RegExp;
  /** Whether the settings use the option (dropping an unused one cannot help). */
  present(settings: SessionSettings): boolean;
  /** The settings without the option. */
  drop(settings: SessionSettings): SessionSettings;
  /** What the session does instead, said after the refusal. */
  instead: string;
}

/**
 * The options that can be dropped, most specific first (the strength before noise reduction as a
 * whole, `languages` before `language`): the first present option a refusal names is dropped.
 */
export const HEALABLE_OPTIONS: readonly HealableOption[] = Object.freeze([
  {
    option: "turnDetection",
    label: "server turn detection",
    param: /(^|\.)turn_detection(\.|$)/,
    message: /turn[ _]detection|\bvad\b/i,
    present: (s) => s.turnDetection.type !== "none",
    drop: (s) => ({ ...s, turnDetection: { type: "none" } }),
    instead: "the page ends each turn itself",
  },
  {
    option: "logprobs",
    label: "confidence (logprobs)",
    param: /(^|\.)include(\[|\.|$)|logprobs/,
    message: /logprobs|'(session\.)?include'/i,
    present: (s) => s.logprobs,
    drop: (s) => ({ ...s, logprobs: false }),
    instead: "captions show no confidence",
  },
  {
    option: "prompt",
    label: "the prompt",
    param: /(^|\.)prompt$/,
    message: /\bprompt\b/i,
    present: (s) => s.prompt !== null,
    drop: (s) => ({ ...s, prompt: null }),
    instead: "the model transcribes without it",
  },
  {
    option: "keywords",
    label: "the keywords",
    param: /(^|\.)keywords(\[|\.|$)/,
    message: /\bkeywords?\b/i,
    present: (s) => s.keywords !== null,
    drop: (s) => ({ ...s, keywords: null }),
    instead: "the model transcribes without them",
  },
  {
    option: "languages",
    label: "the list of possible languages",
    param: /(^|\.)languages(\[|\.|$)/,
    message: /\blanguages\b/i,
    present: (s) => s.languages !== null,
    drop: (s) => ({ ...s, languages: null }),
    instead: "the model detects the language itself",
  },
  {
    option: "language",
    label: "the language",
    param: /(^|\.)language$/,
    message: /\blanguage\b/i,
    present: (s) => s.language !== null,
    drop: (s) => ({ ...s, language: null }),
    instead: "the model detects the language itself",
  },
  {
    option: "delay",
    label: "the delay setting",
    param: /(^|\.)delay$/,
    message: /\bdelay\b/i,
    present: (s) => s.delay !== null,
    drop: (s) => ({ ...s, delay: null }),
    instead: "the model uses its default delay",
  },
  {
    option: "noiseReductionStrength",
    label: "the noise reduction strength",
    param: /(^|\.)noise_reduction\.strength$/,
    message: /noise[ _]reduction[ _.]strength|'[^']*strength'/i,
    present: (s) => s.noiseReductionStrength !== null,
    drop: (s) => ({ ...s, noiseReductionStrength: null }),
    instead: "noise reduction runs at its default strength",
  },
  {
    option: "noiseReduction",
    label: "noise reduction",
    param: /(^|\.)noise_reduction(\.|$)/,
    message: /noise[ _]reduction/i,
    present: (s) => s.noiseReduction !== "off",
    drop: (s) => ({ ...s, noiseReduction: "off", noiseReductionStrength: null }),
    instead: "audio goes in without noise reduction",
  },
]);

/** What `POST /api/session` tells the page about an option it left out. */
export interface Adjustment {
  /** The option's name in the session options, e.g. `turnDetection`. */
  option: string;
  /** One plain sentence: what was left out, why (OpenAI's words), and what happens instead. */
  reason: string;
  /** True when an earlier refusal (a learned rule) made the server leave it out without asking. */
  learned: boolean;
}

/** A param that names only the object around the options (`session`, `session.audio.input`). */
const CONTAINER_PARAM = /^(session)?(\.?audio(\.input(\.transcription)?)?)?$/;

/** A refusal as OpenAI words it: a REST error body's `error`, or an `error` event's. */
export interface Refusal {
  type: string | null;
  param: string | null;
  message: string;
}

/** The option a refusal names, or null when it names no option these settings use. */
export function refusedOptionIn(r: Refusal, settings: SessionSettings): HealableOption | null {
  if (r.type !== "invalid_request_error") return null;
  if (r.param && !CONTAINER_PARAM.test(r.param)) {
    // A param decides alone: one naming an option not in use, or another field, is not ours.
    const named = HEALABLE_OPTIONS.find((o) => o.param.test(r.param!));
    return named?.present(settings) ? named : null;
  }
  // No param, or only the object holding the options: the message must name exactly one option
  // in use, or nothing is dropped.
  const used = HEALABLE_OPTIONS.filter((o) => o.present(settings));
  const byMessage = used.filter((o) => o.message.test(r.message));
  return byMessage.length === 1 ? byMessage[0] : null;
}

/** The option a failed mint's 400 names, or null (any other failure is not healed). */
export function refusedOption(err: unknown, settings: SessionSettings): HealableOption | null {
  if (!(err instanceof UpstreamError) || err.upstreamStatus !== 400) return null;
  return refusedOptionIn(
    { type: err.upstreamType, param: err.param, message: err.upstreamMessage ?? "" },
    settings,
  );
}

function optionNamed(name: string): HealableOption | undefined {
  return HEALABLE_OPTIONS.find((o) => o.option === name);
}

function sentence(text: string): string {
  const t = text.trim().replace(/[.\s]+$/, "");
  return t.length > 300 ? `${t.slice(0, 297)}…` : t;
}

/** The page's sentence for an option dropped after OpenAI refused it just now. */
function refusedReason(o: HealableOption, model: string, upstream: string): string {
  return `OpenAI refused ${o.label} for ${model} ("${sentence(upstream)}"), so this session ` +
    `runs without it: ${o.instead}.`;
}

/** The page's sentence for an option left out because of a learned rule. */
function learnedReason(o: HealableOption, rule: LearnedRuleRow): string {
  const day = new Date(rule.learnedAt).toISOString().slice(0, 10);
  return `OpenAI refused ${o.label} for ${rule.model} on ${day} ("${
    sentence(rule.upstreamMessage)
  }"), so this session runs without it: ${o.instead}.`;
}

/** Dependencies of {@linkcode createSelfHeal}. */
export interface SelfHealDeps {
  /** Where learned rules live; without `listLearnedRules`/`recordLearnedRule` none are kept. */
  store: Pick<Store, "listLearnedRules" | "recordLearnedRule">;
  log?: Logger;
  /** Unix ms; default `Date.now`. */
  now?: () => number;
  /** Default {@linkcode LEARNED_RULE_TTL_MS}. */
  ttlMs?: number;
  /** Default {@linkcode LEARNED_RULES_CACHE_MS}. */
  cacheMs?: number;
}

/** Settings after the learned rules, with what was left out. */
export interface HealPlan {
  settings: SessionSettings;
  adjustments: Adjustment[];
}

/** What {@linkcode SelfHeal.mint} resolves to. */
export interface Healed<T> extends HealPlan {
  /** The minted result (the second attempt's when the first was refused). */
  value: T;
  /** Upstream attempts made: 1, or 2 after a refusal. */
  attempts: 1 | 2;
}

/** What the sideband's `session.update` is built from. */
export interface UpdateParts {
  settings: SessionSettings;
  /** The server-private prompt (`TRANSCRIPTION_PROMPT`), or null. */
  privatePrompt: string | null;
}

/** Drops an option from what the sideband pushes; a refused prompt takes the private one along. */
function dropFromUpdate(o: HealableOption, parts: UpdateParts): UpdateParts {
  return {
    settings: o.drop(parts.settings),
    privatePrompt: o.option === "prompt" ? null : parts.privatePrompt,
  };
}

/** The settings as the update uses them: the private prompt counts as a prompt. */
function updateSettings(parts: UpdateParts): SessionSettings {
  const s = parts.settings;
  return s.prompt === null && parts.privatePrompt?.trim()
    ? { ...s, prompt: parts.privatePrompt }
    : s;
}

/** Reads `error` of an `error` event as a {@linkcode Refusal}, or null. */
function refusalOfEvent(error: unknown): Refusal | null {
  if (!error || typeof error !== "object") return null;
  const e = error as Record<string, unknown>;
  if (typeof e.message !== "string") return null;
  return {
    type: typeof e.type === "string" ? e.type : null,
    param: typeof e.param === "string" ? e.param : null,
    message: redactSecrets(e.message),
  };
}

/** The self-healing half of `POST /api/session` (and of the sideband's `session.update`). */
export interface SelfHeal {
  /** Leaves out every option a learned rule (not expired) says this model refuses. */
  plan(settings: SessionSettings): Promise<HealPlan>;
  /**
   * Runs `attempt` with the plan's settings; when OpenAI refuses an option they use, records the
   * rule, logs it and runs `attempt` ONCE more without it. Any other failure, and a second
   * refusal, rejects with the upstream error as it came.
   */
  mint<T>(plan: HealPlan, attempt: (settings: SessionSettings) => Promise<T>): Promise<Healed<T>>;
  /** The sideband's update after the learned rules (a learned prompt rule drops the private one). */
  planUpdate(parts: UpdateParts): Promise<UpdateParts>;
  /**
   * For an `error` event answering the sideband's `session.update`: when it refuses an option the
   * update used, records the rule, logs it and returns what to push instead; else null. The caller
   * pushes at most one such second update per connection.
   */
  healUpdate(error: unknown, parts: UpdateParts): Promise<UpdateParts | null>;
}

/** Builds the self-healing logic over a Store; it keeps a short-lived copy of the rules. */
export function createSelfHeal(deps: SelfHealDeps): SelfHeal {
  const now = deps.now ?? Date.now;
  const ttlMs = deps.ttlMs ?? LEARNED_RULE_TTL_MS;
  const cacheMs = deps.cacheMs ?? LEARNED_RULES_CACHE_MS;
  const log = deps.log ?? (() => {});
  let cache: { rules: LearnedRuleRow[]; readAt: number } | null = null;

  async function rules(): Promise<LearnedRuleRow[]> {
    const t = now();
    if (!cache || t - cache.readAt > cacheMs) {
      try {
        cache = { rules: await deps.store.listLearnedRules(t), readAt: t };
      } catch (err) {
        // Without the rules a session may take one refused attempt more; it still heals.
        log("error", "Cannot read the learned rules", { error: String(err) });
        return cache?.rules.filter((r) => r.expiresAt > t) ?? [];
      }
    }
    return cache.rules.filter((r) => r.expiresAt > t);
  }

  async function learn(rule: LearnedRuleRow): Promise<void> {
    const others = (cache?.rules ?? []).filter((r) =>
      !(r.model === rule.model && r.option === rule.option)
    );
    // This process knows at once; the Store tells the others.
    cache = { rules: [...others, rule], readAt: cache?.readAt ?? now() };
    try {
      await deps.store.recordLearnedRule(rule);
    } catch (err) {
      log("error", "Cannot record a learned rule", {
        model: rule.model,
        option: rule.option,
        error: String(err),
      });
    }
  }

  /** The learned rules of `model` that apply to `settings`, with their options. */
  async function applicable(model: string, settings: SessionSettings) {
    const out: { o: HealableOption; rule: LearnedRuleRow }[] = [];
    for (const rule of await rules()) {
      const o = rule.model === model ? optionNamed(rule.option) : undefined;
      if (o?.present(settings)) out.push({ o, rule });
    }
    return out;
  }

  function learnRefusal(
    model: string,
    o: HealableOption,
    upstream: string,
    requestId: string | null,
  ) {
    const t = now();
    return learn({
      model,
      option: o.option,
      upstreamMessage: upstream,
      requestId,
      learnedAt: t,
      expiresAt: t + ttlMs,
    });
  }

  return {
    async plan(settings) {
      let current = settings;
      const adjustments: Adjustment[] = [];
      for (const { o, rule } of await applicable(settings.model, settings)) {
        current = o.drop(current);
        adjustments.push({ option: o.option, reason: learnedReason(o, rule), learned: true });
      }
      return { settings: current, adjustments };
    },

    async planUpdate(parts) {
      let current = parts;
      for (const { o } of await applicable(parts.settings.model, updateSettings(parts))) {
        current = dropFromUpdate(o, current);
      }
      return current;
    },

    async healUpdate(error, parts) {
      const refusal = refusalOfEvent(error);
      if (!refusal) return null;
      const o = refusedOptionIn(refusal, updateSettings(parts));
      if (!o) return null;
      const model = parts.settings.model;
      log(
        "warn",
        "OpenAI refused an option of the sideband's session.update; sending it again without it",
        {
          model,
          option: o.option,
          param: refusal.param,
          message: refusal.message,
        },
      );
      await learnRefusal(model, o, refusal.message, null);
      return dropFromUpdate(o, parts);
    },

    async mint(plan, attempt) {
      try {
        return { ...plan, value: await attempt(plan.settings), attempts: 1 };
      } catch (err) {
        const o = refusedOption(err, plan.settings);
        if (!o) throw err;
        const e = err as UpstreamError;
        const model = plan.settings.model;
        const upstream = e.upstreamMessage ?? e.message;
        log("warn", "OpenAI refused a session option; minting again without it", {
          model,
          option: o.option,
          param: e.param,
          requestId: e.requestId,
          upstreamStatus: e.upstreamStatus,
          message: upstream,
        });
        const settings = o.drop(plan.settings);
        const retry = attempt(settings).then(
          (value) => ({ ok: true as const, value }),
          (reason) => ({ ok: false as const, reason }),
        );
        // Let the second request leave before the Store write (a local SQLite write is synchronous).
        await nextTurn();
        await learnRefusal(model, o, upstream, e.requestId);
        const second = await retry;
        if (!second.ok) throw second.reason;
        return {
          settings,
          adjustments: [
            ...plan.adjustments,
            { option: o.option, reason: refusedReason(o, model, upstream), learned: false },
          ],
          value: second.value,
          attempts: 2,
        };
      }
    },
  };
}
