/**
 * `POST /webhooks/openai`: OpenAI's webhooks, signed with Standard Webhooks. A verified
 * `realtime.call.incoming` (a phone call ringing on the project's SIP trunk) is accepted or
 * rejected (see `lib/sip.ts`); an accepted call gets the same sideband and storage as a browser
 * session. Every refusal is a JSON error that changes nothing; a delivery seen before is
 * acknowledged with 200 so OpenAI stops retrying, without acting twice.
 *
 * @module
 */
import { Hono } from "npm:hono@4.13.19";
import type { AppDeps } from "../lib/deps.ts";
import { apiError, invalidInput, upstreamErrorResponse } from "../lib/api_errors.ts";
import { startSidebandInBackground } from "../lib/sideband_registry.ts";
import {
  answerIncomingCall,
  CALL_INCOMING_EVENT,
  CallIncomingDataSchema,
  invalidAllowListEntries,
  WebhookEventSchema,
} from "../lib/sip.ts";
import { claimOnce, releaseClaim } from "../lib/store/claims.ts";
import { UpstreamError } from "../lib/upstream.ts";
import { verifyWebhook, WebhookSecretError } from "../lib/webhook_signature.ts";

/** Largest webhook body read; OpenAI's call events are a few kilobytes. */
export const MAX_WEBHOOK_BYTES = 64 * 1024;

const tooLarge = () =>
  apiError(
    413,
    "body_too_large",
    `Webhook bodies are limited to ${MAX_WEBHOOK_BYTES} bytes`,
  );

/** Routes for `/webhooks`. */
export function webhookRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  const { config, store } = deps;
  const log = deps.log ?? (() => {});
  const badEntries = invalidAllowListEntries(config.sip.allowedCallers);
  if (badEntries.length > 0) {
    const message = "SIP_ALLOWED_CALLERS has entries that are not E.164 numbers";
    log("warn", message, { count: badEntries.length });
  }

  // OpenAI webhook receiver: verifies the signature, then answers or declines phone calls.
  app.post("/openai", async (c) => {
    const secret = config.sip.webhookSecret;
    if (!secret) {
      return apiError(
        503,
        "webhook_not_configured",
        "This server has no OPENAI_WEBHOOK_SECRET set, so it cannot verify webhooks",
      );
    }
    const declared = Number(c.req.header("content-length") ?? "0");
    if (declared > MAX_WEBHOOK_BYTES) {
      return tooLarge();
    }
    let body: string;
    try {
      body = await c.req.text();
    } catch {
      return apiError(400, "invalid_body", "Cannot read the request body");
    }
    if (new TextEncoder().encode(body).length > MAX_WEBHOOK_BYTES) {
      return tooLarge();
    }

    let verified;
    try {
      verified = await verifyWebhook({
        secret,
        headers: c.req.raw.headers,
        body,
      });
    } catch (err) {
      if (!(err instanceof WebhookSecretError)) throw err;
      log("error", "OPENAI_WEBHOOK_SECRET is unusable", {
        reason: err.message,
      });
      return apiError(
        503,
        "webhook_misconfigured",
        "This server's webhook secret is unusable",
      );
    }
    if (!verified.ok) {
      log("warn", "Webhook refused", { code: verified.code });
      return apiError(verified.status, verified.code, verified.message);
    }

    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return apiError(
        400,
        "invalid_json",
        "The webhook body is not valid JSON",
      );
    }
    const event = WebhookEventSchema.safeParse(json);
    if (!event.success) {
      return apiError(
        400,
        "invalid_event",
        "The webhook body is not an OpenAI event",
      );
    }
    const isCall = event.data.type === CALL_INCOMING_EVENT;
    const data = isCall ? CallIncomingDataSchema.safeParse(event.data.data) : null;
    if (data && !data.success) {
      return invalidInput(data.error, { where: "data", code: "invalid_event" });
    }

    // At-least-once delivery: a webhook id is processed once, whichever process receives it.
    const now = Date.now();
    const claimKey = `webhook:${verified.id}`;
    if (!await claimOnce(store, claimKey, now)) {
      return c.json({ received: true, duplicate: true });
    }
    if (!data) {
      log("info", "Webhook event ignored", { type: event.data.type });
      return c.json({ received: true, ignored: event.data.type });
    }

    try {
      // Never this request's Host: the self request carries the internal secret.
      const origin = deps.ownOrigin.forSelf(c);
      const result = await answerIncomingCall({
        config,
        store,
        upstream: deps.upstream,
        log,
        now,
        startSideband: (sessionId, callId) => {
          if (origin === null) return;
          startSidebandInBackground({
            origin,
            sessionId,
            callId,
            internalSecret: config.internalSecret,
            registry: deps.sidebands,
            fetch: deps.fetch,
            log,
          });
        },
      }, data.data);
      if (result.action === "duplicate") {
        return c.json({ received: true, duplicate: true });
      }
      if (result.action === "rejected") {
        return c.json({
          received: true,
          action: "rejected",
          statusCode: result.statusCode,
        });
      }
      return c.json({
        received: true,
        action: "accepted",
        sessionId: result.sessionId,
      });
    } catch (err) {
      // Nothing was kept: let OpenAI's retry try again.
      await releaseClaim(store, claimKey, now);
      if (err instanceof UpstreamError) {
        log("warn", "OpenAI refused to answer a phone call", {
          callId: data.data.call_id,
          code: err.code,
          upstreamStatus: err.upstreamStatus,
        });
        return upstreamErrorResponse(err);
      }
      throw err;
    }
  });

  return app;
}
