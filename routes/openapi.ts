/**
 * `GET /api/openapi.json`: the OpenAPI 3.1 document built from the routes' zod schemas.
 *
 * @module
 */
import { Hono } from "npm:hono@4.13.19";
import type { AppDeps } from "../lib/deps.ts";
import { buildOpenApiDocument } from "../lib/openapi.ts";

/** Routes for `/api/openapi.json`. */
export function openApiRoutes(_deps: AppDeps): Hono {
  const app = new Hono();
  const doc = buildOpenApiDocument();

  // The OpenAPI document of every /api route.
  app.get(
    "/",
    (c) => c.json(doc, 200, { "Cache-Control": "public, max-age=300" }),
  );

  return app;
}
