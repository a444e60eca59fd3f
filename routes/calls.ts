/**
 * The page's call routes, all authorised by the ticket from `POST /api/session`:
 * the SDP relay (Topology B: the only way to start a call with `SIGNALING=relay`, else the fallback
 * when the browser cannot read `Location`), starting the server's sideband for a call, and hanging
 * a call up.
 *
 * @module
 */
import { type Context, Hono } from "npm:hono@4.13.19";
import { z } from "npm:zod@4.6.7";
import type { AppDeps } from "../lib/deps.ts";
import { apiError, invalidInput, readJsonBody, upstreamErrorResponse } from "../lib/api_errors.ts";
import { buildTranscriptionSession, type SessionSettings } from "../lib/session_config.ts";
import { startSidebandInBackground } from "../lib/sideband_registry.ts";
import type { SessionRow } from "../lib/store/types.ts";
import { checkTicket } from "../lib/ticket_guard.ts";
import { CALL_ID_PATTERN, UpstreamError } from "../lib/upstream.ts";
import { missedStartBy } from "../lib/session_policy.ts";
import { startExpiredResponse } from "./session/mint.ts";
import { SdpOfferSchema } from "./api_schemas.ts";

const TicketBody = z.object({ ticket: z.string().min(1).max(1024) });
const RelayBody = z.object({
  ticket: z.string().min(1).max(1024),
  sdp: SdpOfferSchema,
});

/** Reads and checks the body's ticket and loads its session. */
async function authorise(
  deps: AppDeps,
  req: Request,
  schema: typeof TicketBody | typeof RelayBody,
) {
  const body = await readJsonBody(req);
  if (!body.ok) return { ok: false as const, response: body.response };
  const ticketHeader = req.headers.get("x-ticket");
  const value = ticketHeader && typeof body.value === "object" && body.value !== null &&
      !("ticket" in body.value)
    ? { ...body.value, ticket: ticketHeader }
    : body.value;
  const parsed = schema.safeParse(value);
  if (!parsed.success) return { ok: false as const, response: invalidInput(parsed.error) };
  const ticket = await checkTicket(parsed.data.ticket, { secret: deps.config.signingSecret });
  if (!ticket.ok) return ticket;
  const session = await deps.store.getSession(ticket.claims.sessionId);
  if (!session) {
    return {
      ok: false as const,
      response: apiError(
        404,
        "session_not_found",
        "The session of this ticket no longer exists",
      ),
    };
  }
  return { ok: true as const, session, data: parsed.data };
}

function badCallId(): Response {
  return apiError(400, "invalid_call_id", 'The call id must look like "rtc_…"');
}

/**
 * Checks that `callId` may be attached to `session`: not another session's call, now or EVER (a
 * call a session once had stays bound to it after a continuation moved the session on).
 */
async function callConflict(
  deps: AppDeps,
  session: SessionRow,
  callId: string,
): Promise<Response | null> {
  if (session.callId && session.callId !== callId) {
    return apiError(
      409,
      "call_mismatch",
      "This session belongs to a different call",
    );
  }
  const owner = await deps.store.sessionIdOfCall(callId);
  if (owner !== null && owner !== session.id) {
    return apiError(
      409,
      "call_mismatch",
      "This call belongs to a different session",
    );
  }
  return null;
}

/** Routes for `/api/calls`. */
export function callRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  const { store } = deps;
  const startSideband = (c: Context, session: SessionRow, callId: string) => {
    // The own origin from config or the bound address, never this request's Host (it carries the
    // internal secret).
    const origin = deps.ownOrigin.forSelf(c);
    if (origin === null) {
      deps.log("error", "Cannot start the sideband: the server's own address is unknown", {
        callId,
      });
      return;
    }
    startSidebandInBackground({
      origin,
      sessionId: session.id,
      callId,
      internalSecret: deps.config.internalSecret,
      registry: deps.sidebands,
      fetch: deps.fetch,
      log: deps.log,
    });
  };

  // SDP relay (fallback, or every call with SIGNALING=relay): create the call with the server's
  // key (multipart) and start the sideband.
  app.post("/", async (c) => {
    const auth = await authorise(deps, c.req.raw, RelayBody);
    if (!auth.ok) return auth.response;
    const { session } = auth;
    if (session.callId) {
      return apiError(
        409,
        "call_exists",
        "This session already has a call: start a new session",
      );
    }
    if (session.status !== "pending") {
      return apiError(
        409,
        "session_not_pending",
        "This session has already ended",
      );
    }
    // Like a key, a session may start its first call only while the caps still count it.
    if (missedStartBy(session, deps.config, Date.now())) {
      return startExpiredResponse(deps);
    }
    let call;
    try {
      call = await deps.upstream.createCall({
        sdp: (auth.data as z.infer<typeof RelayBody>).sdp,
        session: buildTranscriptionSession(
          session.settings as unknown as SessionSettings,
        ),
      });
    } catch (err) {
      if (err instanceof UpstreamError) return upstreamErrorResponse(err);
      throw err;
    }
    await store.updateSession(session.id, { callId: call.callId });
    startSideband(c, session, call.callId);
    return c.json(
      { sdp: call.sdp, callId: call.callId, sideband: "starting" },
      201,
    );
  });

  /** Checks the call id's shape and the ticket, and that the call is (or can be) this session's. */
  async function claimCall(
    callId: string,
    req: Request,
  ): Promise<{ session: SessionRow; callId: string } | Response> {
    if (!CALL_ID_PATTERN.test(callId)) return badCallId();
    const auth = await authorise(deps, req, TicketBody);
    if (!auth.ok) return auth.response;
    return (await callConflict(deps, auth.session, callId)) ?? { session: auth.session, callId };
  }

  // Attach the server's sideband to a call the browser created (early return; see /internal).
  app.post("/:callId/sideband", async (c) => {
    const claim = await claimCall(c.req.param("callId"), c.req.raw);
    if (claim instanceof Response) return claim;
    const { session, callId } = claim;
    if (session.status === "ended" || session.status === "failed") {
      return apiError(409, "session_ended", "This session has already ended");
    }
    const running = deps.sidebands.get(callId);
    if (!running) {
      if (!session.callId) await store.updateSession(session.id, { callId });
      startSideband(c, session, callId);
    }
    return c.json(
      {
        sessionId: session.id,
        callId,
        sideband: running ? "running" : "starting",
      },
      202,
    );
  });

  // Stop: the server hangs the call up (the sideband then ends and marks the session ended).
  app.post("/:callId/hangup", async (c) => {
    const claim = await claimCall(c.req.param("callId"), c.req.raw);
    if (claim instanceof Response) return claim;
    const { session, callId } = claim;
    // Stop must work even when the sideband never attached (its route failed): bind the call here.
    if (!session.callId) await store.updateSession(session.id, { callId });
    let hungUp;
    try {
      hungUp = await deps.upstream.hangup(callId);
    } catch (err) {
      if (err instanceof UpstreamError) return upstreamErrorResponse(err);
      throw err;
    }
    // A call a continuation left running no longer holds its slot.
    await store.releaseCall(callId);
    if (session.status === "pending") {
      // No sideband ever attached: nothing else will close this session.
      await store.updateSession(session.id, {
        status: "ended",
        endedAt: Date.now(),
        endReason: "hangup",
      });
    }
    return c.json({ sessionId: session.id, callId, hungUp });
  });

  return app;
}
