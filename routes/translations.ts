/**
 * Live translation routes, authorised by the session's ticket:
 *
 * - `POST /api/calls/translation?lang=es`: relays one translation call's raw SDP offer (every
 *   translation call with `SIGNALING=relay`, and the page's Retry once its key expired): the
 *   server mints a translation key for the language and posts the offer with it.
 * - `POST /api/sessions/:id/translations`: the page posts the translated text it received, in
 *   small batches (a translation call takes no sideband, so the server cannot hear it itself).
 *   Idempotent by event id, validated, bounded per session.
 *
 * Plus what `routes/sessions.ts` shows of a session's translations.
 *
 * @module
 */
import { Hono } from "npm:hono@4.13.19";
import { z } from "npm:zod@4.6.7";
import type { AppDeps } from "../lib/deps.ts";
import { apiError, invalidInput, readJsonBody, upstreamErrorResponse } from "../lib/api_errors.ts";
import { checkTicket } from "../lib/ticket_guard.ts";
import { SdpOfferSchema, SessionIdSchema } from "./api_schemas.ts";
import type { SessionRow, Store, TranslationDeltaRow } from "../lib/store/types.ts";
import { DAY_MS } from "../lib/security/limits.ts";
import { refusalResponse, relayMintRefusal } from "../lib/security/mint_limits.ts";
import { missedStartBy } from "../lib/session_policy.ts";
import {
  createTranslationCall,
  LangQuery,
  MAX_TRANSLATION_CALLS_PER_LANGUAGE,
  MAX_TRANSLATION_DELTAS_PER_SESSION,
  sessionTranslations,
  TranslationBatchBody,
} from "../lib/translations.ts";
import { UpstreamError } from "../lib/upstream.ts";
import { startExpiredResponse } from "./session/mint.ts";

const RelayBody = z.strictObject({
  ticket: z.string().min(1).max(1024),
  sdp: SdpOfferSchema,
});

const invalid = (error: z.ZodError, where: string) => invalidInput(error, { where });

const isFinished = (s: SessionRow) => s.status === "ended" || s.status === "failed";

/** Verifies the ticket and loads its session (optionally requiring it to be `id`'s). */
async function ticketSession(
  deps: AppDeps,
  ticket: string,
  id?: string,
): Promise<SessionRow | Response> {
  const checked = await checkTicket(ticket, { secret: deps.config.signingSecret, sessionId: id });
  if (!checked.ok) return checked.response;
  return (await deps.store.getSession(checked.claims.sessionId)) ??
    apiError(404, "session_not_found", "The session of this ticket no longer exists");
}

function notAsked(language: string, field: string): Response {
  return apiError(
    400,
    "invalid_language",
    `This session has no translation into "${language}": start one that asks for it`,
    { field },
  );
}

/** Routes for `/api/calls/translation`. */
export function translationCallRoutes(deps: AppDeps): Hono {
  const app = new Hono();

  // Relay one translation call: mint a key for `lang`, post the raw SDP offer with it.
  app.post("/", async (c) => {
    const lang = LangQuery.safeParse(c.req.query("lang"));
    if (!lang.success) return invalid(lang.error, "lang");
    const body = await readJsonBody(c.req.raw);
    if (!body.ok) return body.response;
    const parsed = RelayBody.safeParse(body.value);
    if (!parsed.success) return invalid(parsed.error, "body");
    const session = await ticketSession(deps, parsed.data.ticket);
    if (session instanceof Response) return session;
    const language = lang.data;
    if (!sessionTranslations(session.settings).includes(language)) {
      return notAsked(language, "lang");
    }
    if (isFinished(session)) {
      return apiError(409, "session_ended", "This session has already ended");
    }
    if (missedStartBy(session, deps.config, Date.now())) {
      return startExpiredResponse(deps);
    }
    // Retries and reconnects are bounded per language: each call is billed.
    const started = await deps.store.incrementCounter(
      `translation-calls:${session.id}:${language}`,
      DAY_MS,
    );
    if (started > MAX_TRANSLATION_CALLS_PER_LANGUAGE) {
      return apiError(
        429,
        "too_many_translation_calls",
        `This session started ${MAX_TRANSLATION_CALLS_PER_LANGUAGE} "${language}" translation calls, its limit`,
      );
    }
    // The key minted here is counted like every other (per-minute mint limits).
    const refusal = await relayMintRefusal(c, deps);
    if (refusal) return refusalResponse(refusal);
    try {
      const call = await createTranslationCall(deps, language, parsed.data.sdp);
      return c.json({ sdp: call.sdp, callId: call.callId, language }, 201);
    } catch (err) {
      if (err instanceof UpstreamError) return upstreamErrorResponse(err);
      throw err;
    }
  });

  return app;
}

/** Routes under `/api/sessions` for translations. */
export function translationRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  const { store } = deps;

  // The page posts translated-text deltas (ticket-bound, idempotent by event id).
  app.post("/:id/translations", async (c) => {
    const id = c.req.param("id");
    if (!SessionIdSchema.safeParse(id).success) {
      return apiError(
        400,
        "invalid_session_id",
        "The session id must be 22 to 64 base64url characters",
      );
    }
    const body = await readJsonBody(c.req.raw);
    if (!body.ok) return body.response;
    const parsed = TranslationBatchBody.safeParse(body.value);
    if (!parsed.success) return invalid(parsed.error, "body");
    const session = await ticketSession(deps, parsed.data.ticket, id);
    if (session instanceof Response) return session;
    const languages = sessionTranslations(session.settings);
    const deltas = parsed.data.deltas;
    const stray = deltas.findIndex((d) => !languages.includes(d.language));
    if (stray >= 0) return notAsked(deltas[stray].language, `deltas.${stray}.language`);
    const result = await store.recordTranslationDeltas(id, deltas, {
      cap: MAX_TRANSLATION_DELTAS_PER_SESSION,
    });
    if (!result) {
      return apiError(
        413,
        "translation_limit_reached",
        `This session holds ${MAX_TRANSLATION_DELTAS_PER_SESSION} translation deltas, its limit`,
      );
    }
    return c.json(result);
  });

  return app;
}

/** A stored delta as the API shows it. */
export function publicDelta(d: TranslationDeltaRow) {
  return {
    seq: d.seq,
    eventId: d.eventId,
    language: d.language,
    kind: d.kind,
    text: d.text,
    elapsedMs: d.elapsedMs,
    atMs: d.atMs,
    itemId: d.itemId,
  };
}

/** What `GET /api/sessions/:id` shows of a session's translations. */
export async function translationsDetail(store: Store, session: SessionRow) {
  const deltas = await store.listTranslationDeltas(session.id);
  return {
    languages: sessionTranslations(session.settings),
    deltas: deltas.map(publicDelta),
    lastSeq: deltas.at(-1)?.seq ?? 0,
  };
}
