/**
 * Composes the app from injected dependencies. `main.tsx` (Val Town) and `start.ts` (local) build
 * the real dependencies; tests build their own (emulator, `:memory:` store).
 *
 * @module
 */
import { Hono } from "npm:hono@4.13.19";
import type { Config } from "./lib/config.ts";
import type { Store } from "./lib/store/types.ts";
import { pageRoutes } from "./routes/pages.ts";
import { sessionRoutes } from "./routes/session.ts";
import { callRoutes } from "./routes/calls.ts";
import { internalRoutes } from "./routes/internal.ts";
import { modelRoutes } from "./routes/models.ts";
import { sessionsRoutes } from "./routes/sessions.ts";
import { openApiRoutes } from "./routes/openapi.ts";
import { viewerRoutes } from "./routes/viewer.ts";
import { webhookRoutes } from "./routes/webhooks.ts";
import { authRoutes } from "./routes/auth.ts";
import { denoConnectWebSocket } from "./lib/sideband.ts";
import { SidebandRegistry } from "./lib/sideband_registry.ts";
// issue #8 (resilience): retries where safe, reconnecting sidebands, a session across calls.
import { withRetries } from "./lib/retry.ts";
import { reconnectingConnect } from "./lib/sideband_supervisor.ts";
import { continuationRoutes } from "./routes/continuation.ts";
import { createUpstream, type UpstreamClient } from "./lib/upstream.ts";
import { securityMiddleware } from "./lib/security/mod.ts";
import { OwnOrigin } from "./lib/security/own_origin.ts";

/** A structured log line; implementations must never receive secrets. */
export type Logger = (
  level: "debug" | "info" | "warn" | "error",
  message: string,
  fields?: Record<string, unknown>,
) => void;

/** Everything the app needs from the outside world. */
export interface AppDeps {
  config: Config;
  store: Store;
  /** Reads one of the val's own files (path relative to the project root, e.g. `frontend/app.js`). */
  readFile: (path: string) => Promise<Uint8Array>;
  /** Outbound HTTP (OpenAI, self-invocation). Defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** Opens an outbound WebSocket with headers (Deno's options bag). Defaults to `new WebSocket`. */
  connectWebSocket?: (
    url: string,
    headers: Record<string, string>,
  ) => WebSocket;
  log?: Logger;
  /** OpenAI REST client; built from `config` and `fetch` when omitted. */
  upstream?: UpstreamClient;
  /** Running sidebands of this process; created when omitted (tests pass one to inspect it). */
  sidebands?: SidebandRegistry;
  /** Val Town's environment-variable page for this val, when known (shown when the key is missing). */
  envVarsUrl?: string | null;
  /**
   * The app's own origin for its requests to itself (never a request's `Host`); built from the
   * config when omitted. A local server reports its bound address with `listening()`.
   */
  ownOrigin?: OwnOrigin;
}

/** JSON error body used by every route: `{ error: { code, message } }`. */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    upstreamStatus?: number;
    field?: string;
  };
}

/** Builds the Hono app. */
export function createApp(appDeps: AppDeps): Hono {
  const deps: AppDeps = {
    ...appDeps,
    // issue #8: transient upstream failures are retried where a repeat is safe (lib/retry.ts).
    upstream: appDeps.upstream ?? withRetries(
      createUpstream({
        baseUrl: appDeps.config.openaiBaseUrl,
        apiKey: appDeps.config.openaiApiKey,
        fetch: appDeps.fetch,
        log: appDeps.log,
      }),
      { log: appDeps.log },
    ),
    // issue #8: a dropped sideband reconnects with backoff (lib/sideband_supervisor.ts).
    connectWebSocket: reconnectingConnect({
      connect: appDeps.connectWebSocket ?? denoConnectWebSocket,
      log: appDeps.log,
    }),
    sidebands: appDeps.sidebands ?? new SidebandRegistry(),
    ownOrigin: appDeps.ownOrigin ?? new OwnOrigin({
      platform: appDeps.config.platform,
      publicOrigin: appDeps.config.publicOrigin,
    }),
  };
  const app = new Hono();

  // --- middleware (security headers, body limits, same-origin, access code) goes here ---
  app.use(...securityMiddleware(deps));

  app.route("/", pageRoutes(deps));
  app.route("/api/session", sessionRoutes(deps));
  app.route("/api/session", continuationRoutes(deps)); // issue #8: POST /api/session/:id/continue
  app.route("/api/calls", callRoutes(deps));
  app.route("/api/models", modelRoutes(deps));
  app.route("/api/sessions", sessionsRoutes(deps));
  app.route("/api/openapi.json", openApiRoutes(deps));
  app.route("/s", viewerRoutes(deps));
  app.route("/internal", internalRoutes(deps));
  app.route("/webhooks", webhookRoutes(deps));
  app.route("/auth", authRoutes(deps));

  app.notFound((c) =>
    c.json<ErrorBody>({
      error: { code: "not_found", message: "No such route" },
    }, 404)
  );
  app.onError((err, c) => {
    deps.log?.("error", "Unhandled error", {
      error: String(err?.stack ?? err),
    });
    // The database being unreachable or locked is a passing condition, not a bug: say so.
    if (isStorageError(err)) {
      return c.json<ErrorBody>(
        {
          error: {
            code: "storage_unavailable",
            message: "The server cannot reach its database right now; try again in a few seconds",
          },
        },
        503,
        { "Retry-After": "5" },
      );
    }
    return c.json<ErrorBody>(
      {
        error: {
          code: "internal_error",
          message: "Something went wrong on the server",
        },
      },
      500,
    );
  });
  return app;
}

/** True for errors thrown by the SQLite/libSQL engine (locked, busy, unreachable, I/O). */
export function isStorageError(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown } | null;
  return e?.name === "LibsqlError" || (typeof e?.code === "string" && e.code.startsWith("SQLITE_"));
}
