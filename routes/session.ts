/**
 * `POST /api/session`: validates the page's options, mints an ephemeral key bound to the public
 * transcription session, records a pending Store session, and returns what the page needs to
 * connect (key, where to post the SDP, a ticket for the call routes).
 *
 * @module
 */
import { Hono } from "npm:hono@4.13.19";
import type { AppDeps } from "../app.ts";
import { apiError, readJsonBody, upstreamErrorResponse } from "../lib/api_errors.ts";
import {
  buildTranscriptionSession,
  clientCommits,
  resolveSessionOptions,
  SessionOptionsError,
} from "../lib/session_config.ts";
import { createTicket } from "../lib/ticket.ts";
import { newSessionId } from "../lib/store/ids.ts";
import { clientKeyOf } from "../lib/security/limits.ts";
import { UpstreamError } from "../lib/upstream.ts";

/** What `POST /api/session` returns. */
export interface SessionResponse {
  sessionId: string;
  /** HMAC ticket for `/api/calls…`; valid for the key's lifetime plus the longest session. */
  ticket: string;
  /** `ek_…`: authorises exactly one thing, posting an SDP offer to `realtimeUrl`. */
  ephemeralKey: string;
  /** Unix seconds when the ephemeral key stops starting calls. */
  expiresAt: number;
  /** Where the browser posts its SDP offer: `{base}/v1/realtime/calls`. */
  realtimeUrl: string;
  /** True when the page's VAD must commit turns (`input_audio_buffer.commit`). */
  clientCommits: boolean;
  model: string;
  /** The validated settings, defaults filled. */
  settings: Record<string, unknown>;
}

/** Seconds a ticket outlives its ephemeral key (covers a whole session and a slow Stop). */
export function ticketTtlSeconds(deps: Pick<AppDeps, "config">): number {
  return deps.config.ephemeralKeyTtlSeconds +
    deps.config.limits.maxSessionSeconds + 120;
}

/** Routes for `/api/session`. */
export function sessionRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  const { config, store } = deps;

  // Mint an ephemeral key + pending session for the page.
  app.post("/", async (c) => {
    const body = await readJsonBody(c.req.raw);
    if (!body.ok) return body.response;
    let settings;
    try {
      settings = resolveSessionOptions(body.value, {
        defaultModel: config.defaultModel,
      });
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
    // The upstream mint is the long pole: write the pending row and sign the ticket meanwhile, and
    // take the row back out if the mint fails (a failed mint changes nothing).
    const id = newSessionId();
    const [minted, created, signed] = await Promise.allSettled([
      deps.upstream!.createClientSecret(buildTranscriptionSession(settings), {
        ttlSeconds: config.ephemeralKeyTtlSeconds,
      }),
      store.createSession({
        id,
        clientKey: clientKeyOf(c) ?? undefined,
        source: "webrtc",
        model: settings.model,
        settings: settings as unknown as Record<string, unknown>,
      }),
      createTicket(id, { secret: config.signingSecret, ttlSeconds: ticketTtlSeconds(deps) }),
    ]);
    if (minted.status === "rejected" || created.status === "rejected") {
      if (created.status === "fulfilled") await store.deleteSession(id);
    }
    if (created.status === "rejected") throw created.reason;
    if (signed.status === "rejected") throw signed.reason;
    if (minted.status === "rejected") {
      const err = minted.reason;
      if (err instanceof UpstreamError) {
        deps.log?.("warn", "Minting an ephemeral key failed", {
          status: err.upstreamStatus,
          code: err.code,
        });
        return upstreamErrorResponse(err);
      }
      throw err;
    }
    const secret = minted.value;
    const ticket = signed.value;
    return c.json<SessionResponse>(
      {
        sessionId: id,
        ticket,
        ephemeralKey: secret.value,
        expiresAt: secret.expiresAt,
        realtimeUrl: `${config.openaiBaseUrl}/v1/realtime/calls`,
        clientCommits: clientCommits(settings),
        model: settings.model,
        settings: settings as unknown as Record<string, unknown>,
      },
      200,
      { "Cache-Control": "no-store" },
    );
  });

  return app;
}
