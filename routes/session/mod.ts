/**
 * Everything under `/api/session`: minting a key for a new session (`mint.ts`,
 * `POST /api/session`) and for a stored session's next call (`continue.ts`,
 * `POST /api/session/:id/continue`).
 *
 * @module
 */
import { Hono } from "npm:hono@4.13.19";
import type { AppDeps } from "../../lib/deps.ts";
import { continuationRoutes } from "./continue.ts";
import { sessionRoutes as mintRoutes } from "./mint.ts";

/** Routes for `/api/session`. */
export function sessionRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  app.route("/", mintRoutes(deps));
  app.route("/", continuationRoutes(deps));
  return app;
}
