/**
 * `POST /api/session/:id/continue`: a new ephemeral key for an existing stored session, so the
 * page can replace its call (ICE failed, or the 60-minute session limit is near) and keep one
 * transcript and one stored record. The ticket from `POST /api/session` authorises it; the
 * session's settings are reused unchanged, and its original start time keeps bounding it
 * (`MAX_SESSION_SECONDS` counts from the first call, so continuing never extends a session). Each
 * continuation is admitted as the live call it is (`admitContinuation`): the mint rate, the
 * concurrency caps and today's minutes, like `POST /api/session`. With
 * `SIGNALING=relay` it mints no key (`ephemeralKey: null`): the next call goes through
 * `POST /api/calls` like the first, and is counted all the same.
 *
 * The session is released from its previous call (`callId` cleared, status back to `pending`) so
 * the usual `POST /api/calls/:callId/sideband` attaches the new call; the previous call's
 * sideband keeps recording until that call ends, and its end no longer changes the session
 * (`lib/sideband.ts` leaves a session alone once it belongs to another call).
 *
 * @module
 */
import { Hono } from "npm:hono@4.13.19";
import { z } from "npm:zod@4.6.7";
import type { AppDeps } from "../../lib/deps.ts";
import {
  apiError,
  invalidInput,
  readJsonBody,
  upstreamErrorResponse,
} from "../../lib/api_errors.ts";
import {
  buildTranscriptionSession,
  clientCommits,
  type SessionSettings,
} from "../../lib/session_config.ts";
import { isSessionId } from "../../lib/store/ids.ts";
import { checkTicket } from "../../lib/ticket_guard.ts";
import { UpstreamError } from "../../lib/upstream.ts";
import { type SessionResponse, startExpiredResponse } from "./mint.ts";
import { admitContinuation, refusalResponse } from "../../lib/security/mint_limits.ts";
import {
  CONTINUE_WINDOW_MS,
  missedStartBy,
  startBySeconds,
  withinContinueWindow,
} from "../../lib/session_policy.ts";

export { CONTINUE_WINDOW_MS };

const ContinueBody = z.object({ ticket: z.string().min(1).max(1024) });

/**
 * End reasons after which a session must not be continued: the server's cap, a shutdown, and
 * OpenAI's session limit (the page rotates before it; reaching it anyway ends the session).
 */
const FINAL_REASONS = new Set(["max_duration", "server_shutdown", "session_expired"]);

/** Routes for `/api/session/:id/continue` (mounted beside `routes/session/mint.ts`). */
export function continuationRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  const { config, store } = deps;

  // Mint a key (none with SIGNALING=relay) for the next call of a stored session (reconnect /
  // rotation before the limit).
  app.post("/:id/continue", async (c) => {
    const id = c.req.param("id");
    if (!isSessionId(id)) {
      return apiError(400, "invalid_session_id", "The session id is not valid");
    }
    const body = await readJsonBody(c.req.raw);
    if (!body.ok) return body.response;
    const parsed = ContinueBody.safeParse(body.value);
    if (!parsed.success) return invalidInput(parsed.error);
    const ticket = await checkTicket(parsed.data.ticket, {
      secret: config.signingSecret,
      sessionId: id,
    });
    if (!ticket.ok) return ticket.response;
    const session = await store.getSession(id);
    if (!session) return apiError(404, "session_not_found", "No such session");
    if (session.source !== "webrtc") {
      return apiError(409, "not_continuable", "Only browser sessions can be continued");
    }
    const now = Date.now();
    const ended = session.status === "ended" || session.status === "failed";
    if (
      ended && (FINAL_REASONS.has(session.endReason ?? "") ||
        !withinContinueWindow(session.endedAt, now))
    ) {
      return apiError(409, "session_ended", "This session has ended: start a new one");
    }
    // Continuing marks the session started, which would exempt a session that never had a call
    // from its start-by time (and bring it back under the caps unweighed): refuse that instead.
    if (missedStartBy(session, config, now)) {
      return startExpiredResponse(deps);
    }
    const started = session.startedAt ?? session.createdAt;
    const leftMs = config.limits.maxSessionSeconds * 1000 - (now - started);
    if (leftMs <= 5000) {
      return apiError(
        409,
        "session_at_limit",
        "This session reached its maximum length: start a new one",
      );
    }
    // A new call: admitted against every cap, and the session released for it (the next
    // `/api/calls/:callId/sideband`, or relaying the next `POST /api/calls`, claims it) in one
    // atomic step; the previous call, if still running, keeps a slot until it ends.
    const refusal = await admitContinuation(c, { config, store, session });
    if (refusal) return refusalResponse(refusal);
    // Relay mode: no key, the page relays its next offer; the start-by time is nominal here (a
    // session that already started is not held to it by `POST /api/calls`).
    let secret = { value: null as string | null, expiresAt: startBySeconds(config, now) };
    if (config.signaling === "direct") {
      try {
        secret = await deps.upstream.createClientSecret(
          buildTranscriptionSession(session.settings as unknown as SessionSettings),
          { ttlSeconds: config.ephemeralKeyTtlSeconds },
        );
      } catch (err) {
        if (err instanceof UpstreamError) return upstreamErrorResponse(err);
        throw err;
      }
    }
    deps.log("info", "Session continues on a new call", {
      sessionId: id,
      previousCallId: session.callId,
    });
    const settings = session.settings as unknown as SessionSettings;
    return c.json<SessionResponse & { continued: true; remainingSeconds: number }>(
      {
        sessionId: id,
        ticket: parsed.data.ticket,
        ephemeralKey: secret.value,
        expiresAt: secret.expiresAt,
        realtimeUrl: secret.value === null ? null : `${config.openaiBaseUrl}/v1/realtime/calls`,
        clientCommits: clientCommits(settings),
        model: session.model,
        settings: session.settings,
        continued: true,
        remainingSeconds: Math.floor(leftMs / 1000),
      },
      200,
      { "Cache-Control": "no-store" },
    );
  });

  return app;
}
