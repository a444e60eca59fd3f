/**
 * The one ticket check of every ticketed route (`/api/calls*`, `/api/session/:id/continue`,
 * `POST /api/sessions/:id/utterances`): the ticket must be signed by this server and unexpired
 * (401 `invalid_ticket`), and, when the route names a session, be that session's (403
 * `ticket_mismatch`). Whether the session still exists is the route's next question.
 *
 * @module
 */
import { apiError } from "./api_errors.ts";
import { type TicketClaims, verifyTicket } from "./ticket.ts";

/** The claims of a good ticket, or the error response to send instead. */
export type TicketCheck =
  | { ok: true; claims: TicketClaims }
  | { ok: false; response: Response };

/** Options for {@linkcode checkTicket}. */
export interface CheckTicketOptions {
  /** `config.signingSecret`. */
  secret: string;
  /** The session the route acts on (its `:id`); omitted when the ticket names it. */
  sessionId?: string;
  now?: number;
}

/**
 * Verifies `ticket` for a route.
 *
 * @example
 * ```ts
 * const checked = await checkTicket(body.ticket, { secret, sessionId: c.req.param("id") });
 * if (!checked.ok) return checked.response;
 * ```
 */
export async function checkTicket(
  ticket: unknown,
  options: CheckTicketOptions,
): Promise<TicketCheck> {
  const claims = await verifyTicket(ticket, { secret: options.secret, now: options.now });
  if (!claims) {
    return {
      ok: false,
      response: apiError(401, "invalid_ticket", "The ticket is invalid or expired: start again"),
    };
  }
  if (options.sessionId !== undefined && claims.sessionId !== options.sessionId) {
    return {
      ok: false,
      response: apiError(403, "ticket_mismatch", "The ticket belongs to another session"),
    };
  }
  return { ok: true, claims };
}
