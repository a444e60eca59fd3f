/**
 * Self-invoked routes, protected by the internal secret header. `POST /internal/sideband/:callId`
 * runs a call's sideband and answers only when it ends: the public route answered the page at
 * once, and this request is what keeps a Val Town process alive meanwhile (early-return pattern).
 *
 * @module
 */
import { Hono } from "npm:hono@4.13.19";
import { z } from "npm:zod@4.6.7";
import type { AppDeps } from "../lib/deps.ts";
import { apiError, invalidInput, readJsonBody } from "../lib/api_errors.ts";
import type { SessionSettings } from "../lib/session_config.ts";
import { INTERNAL_SECRET_HEADER } from "../lib/sideband_registry.ts";
import { scheduleRotation } from "../lib/sideband_rotation.ts";
import { constantTimeEqual } from "../lib/hmac.ts";
import { CALL_ID_PATTERN } from "../lib/upstream.ts";

const SidebandBody = z.object({
  sessionId: z.string().min(1).max(100),
  /** Set by the rotation hand-off: replace the running sideband. */
  rotate: z.boolean().optional(),
});

/** Routes for `/internal`. */
export function internalRoutes(deps: AppDeps): Hono {
  const app = new Hono();

  app.use("*", async (c, next) => {
    const given = c.req.header(INTERNAL_SECRET_HEADER) ?? "";
    if (!given || !(await constantTimeEqual(given, deps.config.internalSecret))) {
      return apiError(403, "forbidden", "This route is for the server itself");
    }
    await next();
  });

  // Run a call's sideband to its end (awaited: keeps the platform process alive).
  app.post("/sideband/:callId", async (c) => {
    const callId = c.req.param("callId");
    if (!CALL_ID_PATTERN.test(callId)) {
      return apiError(
        400,
        "invalid_call_id",
        'The call id must look like "rtc_…"',
      );
    }
    const body = await readJsonBody(c.req.raw);
    if (!body.ok) return body.response;
    const parsed = SidebandBody.safeParse(body.value);
    if (!parsed.success) return invalidInput(parsed.error);
    const session = await deps.store.getSession(parsed.data.sessionId);
    if (!session) return apiError(404, "session_not_found", "No such session");
    if (session.callId !== null && session.callId !== callId) {
      return apiError(
        409,
        "call_mismatch",
        "This session belongs to a different call",
      );
    }
    if (session.status === "ended" || session.status === "failed") {
      return apiError(409, "session_ended", "This session has already ended");
    }
    const registry = deps.sidebands;
    const rotate = parsed.data.rotate === true;
    const joined = !rotate && registry.get(callId) !== undefined;
    const options = {
      config: deps.config,
      store: deps.store,
      upstream: deps.upstream,
      sessionId: session.id,
      callId,
      settings: session.settings as unknown as SessionSettings,
      connectWebSocket: deps.connectWebSocket,
      log: deps.log,
      startedAt: session.startedAt ?? undefined,
      // A phone call's realtime session was configured by /accept (lib/sip.ts).
      sendSessionUpdate: session.source !== "sip",
    };
    const run = rotate ? registry.rotate(options) : registry.start(options);
    // Before a platform's request cap, a fresh self-invoked request takes the call over.
    const cancelRotation = scheduleRotation({
      limitSeconds: deps.config.platformRequestLimitSeconds,
      joined,
      // The own origin, never the request's Host; unknown (null) skips the hand-over.
      origin: () => deps.ownOrigin.forSelf(c),
      sessionId: session.id,
      callId,
      internalSecret: deps.config.internalSecret,
      registry,
      fetch: deps.fetch,
      log: deps.log,
    });
    try {
      return c.json(await run.done);
    } finally {
      cancelRotation();
    }
  });

  return app;
}
