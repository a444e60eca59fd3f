/**
 * Composes the app from its dependencies, which `lib/setup.ts` assembles complete (`main.tsx` on
 * Val Town, `start.ts` locally, `testing/server.ts` in tests): middleware first, then one sub-app
 * per resource from `routes/`.
 *
 * @module
 */
import { Hono } from "npm:hono@4.13.19";
import type { AppDeps, ErrorBody } from "./lib/deps.ts";
import { pageRoutes } from "./routes/pages.ts";
import { aboutRoutes } from "./routes/about.ts";
import { sessionRoutes } from "./routes/session/mod.ts";
import { callRoutes } from "./routes/calls.ts";
import { internalRoutes } from "./routes/internal.ts";
import { sessionsRoutes } from "./routes/sessions.ts";
import { viewerRoutes } from "./routes/viewer.ts";
import { authRoutes } from "./routes/auth.ts";
import { securityMiddleware } from "./lib/security/mod.ts";
import { lazyRoutes } from "./lib/lazy_routes.ts";
import { routeNotFound } from "./lib/api_errors.ts";
import { translationCallRoutes, translationRoutes } from "./routes/translations.ts";

/** Builds the Hono app. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();

  app.use(...securityMiddleware(deps));

  app.route("/", pageRoutes(deps));
  app.route("/api", aboutRoutes(deps)); // /api/config, /api/models, /api/openapi.json
  app.route("/api/session", sessionRoutes(deps)); // mint.ts, continue.ts
  app.route("/api/calls/translation", translationCallRoutes(deps));
  app.route("/api/calls", callRoutes(deps));
  app.route("/api/sessions", translationRoutes(deps));
  app.route("/api/sessions", sessionsRoutes(deps));
  app.route("/s", viewerRoutes(deps));
  app.route("/internal", internalRoutes(deps));
  app.route(
    "/webhooks",
    // Phone calls only: most processes never get a webhook, so the SIP modules run on the first.
    lazyRoutes("/webhooks", async () => (await import("./routes/webhooks.ts")).webhookRoutes(deps)),
  );
  app.route("/auth", authRoutes(deps));

  app.notFound(() => routeNotFound());
  app.onError((err, c) => {
    deps.log("error", "Unhandled error", {
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

/** True for errors thrown by the SQLite/libSQL engine (locked, busy, unreachable, I/O) or opening it. */
export function isStorageError(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown } | null;
  return e?.name === "LibsqlError" || e?.name === "StoreOpenError" ||
    (typeof e?.code === "string" && e.code.startsWith("SQLITE_"));
}
