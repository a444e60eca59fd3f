/**
 * `POST /api/session`: validates the page's options, mints an ephemeral key bound to the public
 * transcription session, records a pending Store session, and returns what the page needs to
 * connect (key, where to post the SDP, a ticket for the call routes).
 *
 * With `SIGNALING=relay` no key is minted (the answer's `ephemeralKey` and `realtimeUrl` are null):
 * the page must relay its offer through `POST /api/calls`, so the server creates, sees and can hang
 * up every call. The session is counted against the mint limits all the same.
 *
 * @module
 */
import { Hono } from "npm:hono@4.13.19";
import type { AppDeps } from "../../lib/deps.ts";
import { apiError, readJsonBody, upstreamErrorResponse } from "../../lib/api_errors.ts";
import {
  buildTranscriptionSession,
  clientCommits,
  resolveSessionOptions,
  SessionOptionsError,
  type SessionSettings,
} from "../../lib/session_config.ts";
import { createTicket } from "../../lib/ticket.ts";
import { newSessionId } from "../../lib/store/ids.ts";
import { mintAdmissionOf, refusalResponse } from "../../lib/security/mint_limits.ts";
import { startBySeconds, ticketTtlSeconds } from "../../lib/session_policy.ts";
import { UpstreamError } from "../../lib/upstream.ts";
import { nextTurn } from "../../lib/next_turn.ts";
import {
  callsOf,
  mintTranslationKey,
  relayUrlOf,
  takeTranslations,
  type TranslationTarget,
} from "../../lib/translations.ts";
import { translationLanguage } from "../../lib/translation_languages.ts";
import { type Adjustment, createSelfHeal } from "../../lib/self_heal.ts";

/** What `POST /api/session` returns. */
export interface SessionResponse {
  sessionId: string;
  /** HMAC ticket for `/api/calls…`; valid for the key's lifetime plus the longest session. */
  ticket: string;
  /**
   * `ek_…`: authorises exactly one thing, posting an SDP offer to `realtimeUrl`. Null with
   * `SIGNALING=relay`: the offer goes through `POST /api/calls` instead.
   */
  ephemeralKey: string | null;
  /**
   * Unix seconds by which the session must start its call: the key's expiry, or with
   * `SIGNALING=relay` the same start-by time that `POST /api/calls` enforces.
   */
  expiresAt: number;
  /** Where the browser posts its SDP offer: `{base}/v1/realtime/calls`; null with a null key. */
  realtimeUrl: string | null;
  /** True when the page's VAD must commit turns (`input_audio_buffer.commit`). */
  clientCommits: boolean;
  model: string;
  /** The validated settings, defaults filled, without the options in `adjustments`. */
  settings: Record<string, unknown>;
  /**
   * One translation call per asked language (`translations`), in the order asked (not repeated by
   * a continuation: translation calls run on their own).
   */
  translations?: TranslationTarget[];
  /**
   * Options left out because OpenAI refused them (now or earlier, see `lib/self_heal.ts`); always
   * sent by `POST /api/session` (empty when none), absent from a continuation (same settings).
   */
  adjustments?: Adjustment[];
}

/**
 * The 409 for a session asked to start its first call after its start-by time (see
 * `missedStartBy` in `lib/session_policy.ts`); shared by the relay and the continuation.
 */
export function startExpiredResponse(deps: Pick<AppDeps, "config">): Response {
  return apiError(
    409,
    "session_start_expired",
    `This session was not started within ${deps.config.ephemeralKeyTtlSeconds} s: start again`,
  );
}

/** The outcome of `promise`, never rejecting. */
function settle<T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  return promise.then(
    (value) => ({ status: "fulfilled", value }),
    (reason) => ({ status: "rejected", reason }),
  );
}

/** Routes for `/api/session`. */
export function sessionRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  const { config, store } = deps;
  const healer = createSelfHeal({ store, log: deps.log });

  // Mint an ephemeral key (none with SIGNALING=relay) + pending session for the page.
  app.post("/", async (c) => {
    const body = await readJsonBody(c.req.raw);
    if (!body.ok) return body.response;
    const asked = takeTranslations(body.value, config.maxTranslations);
    if (!asked.ok) {
      return apiError(400, "invalid_option", asked.message, { field: "translations" });
    }
    const languages = asked.languages;
    // The languages ride along in the stored settings (exports, the relay and the viewer read them).
    let settings: SessionSettings;
    try {
      settings = {
        ...resolveSessionOptions(asked.rest, { defaultModel: config.defaultModel }),
        translations: languages,
      } as SessionSettings;
    } catch (err) {
      if (err instanceof SessionOptionsError) {
        return apiError(400, "invalid_option", err.message, {
          field: err.field,
        });
      }
      throw err;
    }
    if (!config.openaiApiKey) {
      return apiError(
        503,
        "missing_api_key",
        "The server has no OPENAI_API_KEY: set it in the environment and restart",
      );
    }
    // Options OpenAI refused for this model earlier are left out before asking (learned rules).
    const plan = await healer.plan(settings);
    settings = plan.settings;
    const admission = mintAdmissionOf(c);
    const id = newSessionId();
    const newRow = {
      id,
      source: "webrtc" as const,
      model: settings.model,
      settings: settings as unknown as Record<string, unknown>,
      // Its weight on the caps: 1 + one live call per translation language.
      calls: callsOf(languages),
    };
    // The decision and the row are one atomic Store step (`admit`): parallel mints cannot both
    // take the last slot. Without the mint limits (a bare test app) the row is simply written.
    const admit = async () => {
      if (admission) return await admission.admit(newRow);
      await store.createSession(newRow);
      return null;
    };
    if (config.signaling === "relay") {
      // No key to mint, so nothing to overlap the decision with: admit first (the row then holds
      // a concurrency slot until its start-by time), then sign the ticket.
      const createdAt = admission?.now ?? Date.now();
      const refusal = await admit();
      if (refusal) return refusalResponse(refusal);
      const ticket = await createTicket(id, {
        secret: config.signingSecret,
        ttlSeconds: ticketTtlSeconds(config),
      });
      return c.json<SessionResponse>(
        {
          sessionId: id,
          ticket,
          ephemeralKey: null,
          expiresAt: startBySeconds(config, createdAt),
          realtimeUrl: null,
          clientCommits: clientCommits(settings),
          model: settings.model,
          settings: settings as unknown as Record<string, unknown>,
          translations: languages.map((language) => target(language, null)),
          adjustments: plan.adjustments,
        },
        200,
        { "Cache-Control": "no-store" },
      );
    }
    // The upstream mint is the long pole. Unless this client was refused lately, it starts before
    // the limits decide (lib/security/mint_limits.ts); the decision, the pending row and the
    // ticket all happen while it is in flight. A failed or refused mint changes nothing.
    // Settled at once, so a failure while the limits decide is never an unhandled rejection.
    // A refusal of an option the catalog allowed is retried once without it (lib/self_heal.ts).
    // A client refused lately is admitted first, and only then minted for.
    const early = admission !== null && !admission.optimistic;
    const first = early ? await admit() : null;
    if (first) return refusalResponse(first);
    const minting = settle(
      healer.mint(plan, (s) =>
        deps.upstream.createClientSecret(buildTranscriptionSession(s), {
          ttlSeconds: config.ephemeralKeyTtlSeconds,
        })),
    );
    // One translation key per language, minted alongside (each is one more live call).
    const translating = Promise.all(
      languages.map((language) => settle(mintTranslationKey(deps, language))),
    );
    // Let the mint request leave first: a local SQLite write is synchronous and would hold it.
    await nextTurn();
    const decided = early ? { status: "fulfilled" as const, value: null } : await settle(admit());
    if (decided.status === "rejected" || decided.value) {
      // Wait for the mint so nothing runs on after the answer; its key is never handed out.
      await Promise.all([minting, translating]);
      if (decided.status === "rejected") throw decided.reason;
      return refusalResponse(decided.value!);
    }
    const [minted, signed, translated] = await Promise.all([
      minting,
      settle(
        createTicket(id, { secret: config.signingSecret, ttlSeconds: ticketTtlSeconds(config) }),
      ),
      translating,
    ]);
    if (minted.status === "rejected" || signed.status === "rejected") {
      await store.deleteSession(id);
    }
    if (signed.status === "rejected") throw signed.reason;
    if (minted.status === "rejected") {
      const err = minted.reason;
      if (err instanceof UpstreamError) {
        deps.log("warn", "Minting an ephemeral key failed", {
          status: err.upstreamStatus,
          code: err.code,
          requestId: err.requestId,
        });
        return upstreamErrorResponse(err);
      }
      throw err;
    }
    const { value: secret, settings: healed, adjustments } = minted.value;
    // Stored as minted: continuations and the sideband rebuild the session from these settings.
    if (healed !== settings) {
      await store.updateSession(id, { settings: healed as unknown as Record<string, unknown> });
    }
    const ticket = signed.value;
    return c.json<SessionResponse>(
      {
        sessionId: id,
        ticket,
        ephemeralKey: secret.value,
        expiresAt: secret.expiresAt,
        realtimeUrl: `${config.openaiBaseUrl}/v1/realtime/calls`,
        clientCommits: clientCommits(healed),
        model: healed.model,
        settings: healed as unknown as Record<string, unknown>,
        adjustments,
        // A language whose key failed still has the relay: its call starts (or fails) on its own.
        translations: languages.map((language, i) => {
          const r = translated[i];
          if (r.status === "rejected") {
            deps.log("warn", "Minting a translation key failed", {
              language,
              code: r.reason instanceof UpstreamError ? r.reason.code : "error",
            });
          }
          return target(language, r.status === "fulfilled" ? r.value : null);
        }),
      },
      200,
      { "Cache-Control": "no-store" },
    );
  });

  /** One language of the answer: its key (direct signaling) or only the relay. */
  function target(
    language: string,
    key: { value: string; expiresAt: number } | null,
  ): TranslationTarget {
    return {
      language,
      name: translationLanguage(language)?.name ?? language,
      ephemeralKey: key?.value ?? null,
      url: key ? `${config.openaiBaseUrl}/v1/realtime/translations/calls` : null,
      relayUrl: relayUrlOf(language),
      expiresAt: key?.expiresAt ?? null,
    };
  }

  return app;
}
