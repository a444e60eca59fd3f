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
import { viewerRoutes } from "./routes/viewer.ts";
import { securityMiddleware } from "./lib/security/mod.ts";
import { lazyRoutes } from "./lib/lazy_routes.ts";
import { routeNotFound } from "./lib/api_errors.ts";
import { loadLater } from "./lib/load_later.ts";

/**
 * The path prefixes of `routes/api.ts`, mounted here without importing it (it loads zod).
 * `routes/api_test.ts` checks that every one of its routes is under one of them.
 */
export const API_PREFIXES = ["/api/session", "/api/calls", "/api/sessions", "/internal", "/auth"];

// Loaded on first use, never before the first byte of `/` (lib/load_later.ts).
const loadApi = loadLater<typeof import("./routes/api.ts")>(
  new URL("./routes/api.ts", import.meta.url),
);
const loadWebhooks = loadLater<typeof import("./routes/webhooks.ts")>(
  new URL("./routes/webhooks.ts", import.meta.url),
);

/** Builds the Hono app. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();

  app.use(...securityMiddleware(deps));

  app.route("/", pageRoutes(deps));
  app.route("/api", aboutRoutes(deps)); // /api/config, /api/models, /api/openapi.json
  // The API and sign-in validate with zod: loaded on their first request, so `/` never waits.
  const api = lazyRoutes("", async () => (await loadApi()).apiRoutes(deps));
  for (const prefix of API_PREFIXES) app.route(prefix, api);
  app.route("/s", viewerRoutes(deps));
  app.route(
    "/webhooks",
    // Phone calls only: most processes never get a webhook, so the SIP modules run on the first.
    lazyRoutes("/webhooks", async () => (await loadWebhooks()).webhookRoutes(deps)),
  );

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
