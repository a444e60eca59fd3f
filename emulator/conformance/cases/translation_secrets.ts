/**
 * `POST /v1/realtime/translations/client_secrets` (protocol reference "Update, 2026-11" and
 * "2026-12"; the `openai` package's `RealtimeTranslationClientSecretCreateResponse`): the answer
 * with the effective session, strict validation as for Realtime secrets, the output languages,
 * auth and `x-request-id`.
 *
 * @module
 */
import {
  TRANSLATION_LANGUAGE_CODES,
  TRANSLATION_MODEL,
} from "../../../lib/translation_languages.ts";
import type { Ev } from "../../testkit.ts";
import type { CaseContext, RestAnswer } from "../context.ts";
import { TRANSLATION_DEFAULT_LANGUAGE, TRANSLATION_UNLISTED_LANGUAGES } from "../questions.ts";
import type { Case } from "../types.ts";
import { errorOf } from "./rest.ts";

/** The Translation API's client-secret endpoint. */
export const TRANSLATION_SECRETS = "/v1/realtime/translations/client_secrets";

/** A translation session request with an output language (and optional `audio.input`). */
export function translationSession(language: string, input?: Ev): Ev {
  return {
    model: TRANSLATION_MODEL,
    audio: { ...(input ? { input } : {}), output: { language } },
  };
}

/** Mints a translation client secret (`session` left out when undefined). */
export function mintTranslation(
  ctx: CaseContext,
  session: unknown,
  extra: Ev = {},
): Promise<RestAnswer> {
  return ctx.post(TRANSLATION_SECRETS, {
    ...extra,
    ...(session === undefined ? {} : { session }),
  });
}

/** The secret's value for `language` (or a placeholder that no target accepts). */
export async function translationKey(ctx: CaseContext, language: string): Promise<string> {
  return (await mintTranslation(ctx, translationSession(language))).json?.value ?? "ek_missing";
}

/** An answer as the tables compare it: `200` or `status code param`. */
export function outcome(r: RestAnswer): string {
  return r.status === 200 ? "200" : errorOf(r);
}

const model = TRANSLATION_MODEL;

/** Error cases: what, body, expected `status code param`, source. */
const ERRORS: [string, unknown, string, string][] = [
  ["no session", {}, "400 missing_required_parameter session", "2026-11 update [SDK: required]"],
  [
    "model at the top level",
    { session: { model }, model },
    "400 unknown_parameter model",
    "strict as §1.3 [INFER]",
  ],
  [
    "session without model",
    { session: {} },
    "400 missing_required_parameter session.model",
    "2026-11 update [SDK: required]",
  ],
  [
    "session.type (the create request has none)",
    { session: { type: "translation", model } },
    "400 unknown_parameter session.type",
    "2026-11 update [SDK RealtimeTranslationSessionCreateRequest]",
  ],
  [
    "a Realtime model",
    { session: { model: "gpt-realtime" } },
    "400 invalid_value session.model",
    "2026-11 update [SDK: gpt-realtime-translate]",
  ],
  [
    "model not a string",
    { session: { model: 7 } },
    "400 invalid_type session.model",
    "strict as §1.3 [INFER]",
  ],
  [
    "instructions",
    { session: { model, instructions: "x" } },
    "400 unknown_parameter session.instructions",
    "2026-11 update [SDK: no instructions]",
  ],
  [
    "language not a string",
    { session: { model, audio: { output: { language: 34 } } } },
    "400 invalid_type session.audio.output.language",
    "2026-12 update [SDK: a string]",
  ],
  [
    "an output voice",
    { session: { model, audio: { output: { voice: "alloy" } } } },
    "400 unknown_parameter session.audio.output.voice",
    "2026-11 update [SDK]",
  ],
  [
    "a source language (it is detected)",
    { session: { model, audio: { input: { language: "en" } } } },
    "400 unknown_parameter session.audio.input.language",
    "2026-12 update [LIVE: 'OpenAI currently rejects session.audio.input.language']",
  ],
  [
    "unknown transcription model",
    { session: { model, audio: { input: { transcription: { model: "whisper-2" } } } } },
    "400 invalid_value session.audio.input.transcription.model",
    "2026-11 update [SDK enum]",
  ],
  [
    "transcription without model",
    { session: { model, audio: { input: { transcription: {} } } } },
    "400 missing_required_parameter session.audio.input.transcription.model",
    "[INFER]",
  ],
  [
    "a transcription prompt",
    {
      session: {
        model,
        audio: { input: { transcription: { model: "gpt-realtime-whisper", prompt: "x" } } },
      },
    },
    "400 unknown_parameter session.audio.input.transcription.prompt",
    "2026-11 update [SDK: transcription has only model]",
  ],
  [
    "unknown noise reduction",
    { session: { model, audio: { input: { noise_reduction: { type: "loud" } } } } },
    "400 invalid_value session.audio.input.noise_reduction.type",
    "2026-11 update [SDK enum]",
  ],
  [
    "turn detection (a translation session has no turns)",
    { session: { model, audio: { input: { turn_detection: null } } } },
    "400 unknown_parameter session.audio.input.turn_detection",
    "2026-12 update [DOC: a continuous interpreter]",
  ],
  [
    "expires_after.seconds below 10",
    { session: { model }, expires_after: { anchor: "created_at", seconds: 5 } },
    "400 integer_below_min_value expires_after.seconds",
    "as §1.3 [INFER]",
  ],
  [
    "expires_after.seconds above 7200",
    { session: { model }, expires_after: { seconds: 7201 } },
    "400 integer_above_max_value expires_after.seconds",
    "as §1.3 [INFER]",
  ],
  [
    "expires_after.anchor other than created_at",
    { session: { model }, expires_after: { anchor: "now" } },
    "400 invalid_value expires_after.anchor",
    "2026-11 update [SDK]",
  ],
];

const REQUEST_ID = /^req_[0-9a-zA-Z]+$/;

export const TRANSLATION_SECRET_CASES: readonly Case[] = [
  {
    id: "translation.secret.shape",
    title:
      "A translation secret: ek_ value, expiry, the effective session (exact keys), every listed language",
    source: "2026-11 update [SDK RealtimeTranslationClientSecretCreateResponse]",
    async run(ctx) {
      const before = Math.floor(Date.now() / 1000);
      const r = await mintTranslation(ctx, translationSession("es"));
      ctx.check("status", 200, r.status);
      ctx.match("x-request-id", REQUEST_ID, r.headers.get("x-request-id"), "openai SDK");
      ctx.check(
        "answer keys",
        ["expires_at", "session", "value"],
        Object.keys(r.json ?? {}).sort(),
      );
      ctx.match("value", /^ek_[0-9a-f]{32}$/, r.json?.value, "§1.2 [DOC example]");
      ctx.check("expires_at ≈ now + 600 s", "within 2 s", r.json?.expires_at, {
        ok: Math.abs(r.json?.expires_at - (before + 600)) <= 2,
        source: "as §1.1 [SDK default 600]",
      });
      const s = r.json?.session ?? {};
      ctx.check(
        "session keys",
        ["audio", "expires_at", "id", "model", "type"],
        Object.keys(s).sort(),
      );
      ctx.match("session.id", /^sess_/, s.id);
      ctx.check("session.type", "translation", s.type);
      ctx.check("session.model", TRANSLATION_MODEL, s.model);
      ctx.check("session.expires_at repeats the secret's", r.json?.expires_at, s.expires_at, {
        source: "[DOC: OpenAI's example response]",
      });
      ctx.check("session.audio (defaults filled)", {
        input: { noise_reduction: null, transcription: null },
        output: { language: "es" },
      }, s.audio);

      const full = await mintTranslation(
        ctx,
        translationSession("de", {
          transcription: { model: "gpt-realtime-whisper" },
          noise_reduction: { type: "near_field" },
        }),
        { expires_after: { anchor: "created_at", seconds: 10 } },
      );
      ctx.check("input transcription and noise reduction: status", 200, full.status);
      ctx.check("… the shortest lifetime (10 s)", "within 2 s", full.json?.expires_at, {
        ok: Math.abs(full.json?.expires_at - (before + 10)) <= 2,
      });
      ctx.check("… echoed (strength 1 when first enabled)", {
        input: {
          noise_reduction: { type: "near_field", strength: 1 },
          transcription: { model: "gpt-realtime-whisper" },
        },
        output: { language: "de" },
      }, full.json?.session?.audio);

      const bare = await mintTranslation(ctx, { model: TRANSLATION_MODEL });
      ctx.check("no language: status", 200, bare.status);
      ctx.question(
        TRANSLATION_DEFAULT_LANGUAGE,
        "the output language of a session that names none",
        ctx.target.emulator?.control.state.options.translationDefaultLanguage ?? "en",
        bare.json?.session?.audio?.output?.language ?? null,
      );

      for (const language of TRANSLATION_LANGUAGE_CODES) {
        const ok = await mintTranslation(ctx, translationSession(language));
        ctx.check(`output language ${language}`, 200, ok.status, {
          source: "2026-12 update [cookbook: 13 output languages]",
        });
      }
    },
  },
  {
    id: "translation.secret.errors",
    title: "Validation errors as for Realtime secrets; unlisted languages; nothing is stored",
    source: "2026-11 update [SDK]; envelope as §1.3 [LIVE]",
    async run(ctx) {
      const stored = () => ctx.target.emulator?.control.state.secrets.size ?? 0;
      const before = stored();
      const ids: (string | null)[] = [];
      const messages: unknown[] = [];
      for (const [what, body, expected, source] of ERRORS) {
        const r = await ctx.post(TRANSLATION_SECRETS, body);
        ctx.check(what, expected, errorOf(r), { source });
        ids.push(r.headers.get("x-request-id"));
        messages.push(r.json?.error?.message);
      }
      ctx.check(
        "every error has a message",
        true,
        messages.every((m) => typeof m === "string" && m.length > 0),
      );
      ctx.check(
        "every error carries x-request-id",
        true,
        ids.every((id) => REQUEST_ID.test(id ?? "")),
        {
          source: "openai SDK",
        },
      );
      ctx.emulatorOnly("nothing was stored by the refused requests", before, stored());
      const refuses = (ctx.target.emulator?.control.state.options.translationLanguages ??
        "listed") === "listed";
      for (const language of ["nl", "ES"]) {
        const r = await mintTranslation(ctx, translationSession(language));
        ctx.question(
          TRANSLATION_UNLISTED_LANGUAGES,
          `output language '${language}'`,
          refuses ? "400 invalid_value session.audio.output.language" : "200",
          outcome(r),
        );
        if (language === "nl" && refuses) {
          ctx.emulatorOnly(
            "the refusal lists the languages",
            "Invalid value: 'nl'. Supported values are: 'es', …",
            r.json?.error?.message,
            /Invalid value: 'nl'\. Supported values are: 'es'/.test(r.json?.error?.message ?? ""),
          );
        }
      }
      const garbage = await ctx.request(TRANSLATION_SECRETS, {
        method: "POST",
        headers: {
          authorization: `Bearer ${ctx.target.apiKey}`,
          "content-type": "application/json",
        },
        body: "{nope",
      });
      ctx.check("a body that is not JSON", 400, garbage.status, { source: "§1.3 [INFER]" });
      ctx.emulatorOnly("… its error", "400 null null", errorOf(garbage));
    },
  },
  {
    id: "translation.secret.auth",
    title: "Only the standard key mints: none, a wrong key or an ek_ get 401",
    source: "§1.3, §2.5 [LIVE, for Realtime secrets]",
    async run(ctx) {
      const body = { session: { model: TRANSLATION_MODEL } };
      const none = await ctx.post(TRANSLATION_SECRETS, body, null);
      ctx.check("no key", 401, none.status);
      ctx.emulatorOnly("no key: error", "401 null null", errorOf(none));
      const wrong = await ctx.post(TRANSLATION_SECRETS, body, "sk-wrong-key-123456");
      ctx.check("wrong key", "401 invalid_api_key null", errorOf(wrong));
      ctx.check("wrong key is not echoed", false, wrong.text.includes("sk-wrong-key-123456"), {
        source: "§2.5 [LIVE: the key is masked]",
      });
      const ek = await translationKey(ctx, "es");
      const byEk = await ctx.post(TRANSLATION_SECRETS, body, ek);
      ctx.check("an ek_ cannot mint", 401, byEk.status, { source: "§1.1 [SDK: standard key]" });
    },
  },
];
