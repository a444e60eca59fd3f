/**
 * The routes behind the page: the session API, calls, stored sessions and translations, the
 * self-invoked internal routes and the access-code sign-in. They validate their input with zod,
 * so `app.ts` loads this module on the first request under one of its `API_PREFIXES`, not before
 * the first byte of `/` (`lib/lazy_routes.ts`).
 *
 * @module
 */
import { Hono } from "npm:hono@4.13.19";
import type { AppDeps } from "../lib/deps.ts";
import { sessionRoutes } from "./session/mod.ts";
import { callRoutes } from "./calls.ts";
import { internalRoutes } from "./internal.ts";
import { sessionsRoutes } from "./sessions.ts";
import { authRoutes } from "./auth.ts";
import { translationCallRoutes, translationRoutes } from "./translations.ts";

/** The sub-apps, at their full paths. */
export function apiRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  app.route("/api/session", sessionRoutes(deps)); // mint.ts, continue.ts
  app.route("/api/calls/translation", translationCallRoutes(deps));
  app.route("/api/calls", callRoutes(deps));
  app.route("/api/sessions", translationRoutes(deps));
  app.route("/api/sessions", sessionsRoutes(deps));
  app.route("/internal", internalRoutes(deps));
  app.route("/auth", authRoutes(deps));
  return app;
}
