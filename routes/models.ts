/**
 * `GET /api/models`: the transcription model catalog (`lib/models.ts`) with each model's supported
 * options and deprecation/shutdown date, plus the server's default.
 *
 * @module
 */
import { Hono } from "npm:hono@4.13.19";
import type { AppDeps } from "../lib/deps.ts";
import { MODELS } from "../lib/models.ts";

/** Routes for `/api/models`. */
export function modelRoutes(deps: AppDeps): Hono {
  const app = new Hono();

  // The model catalog and the default model.
  app.get(
    "/",
    (c) =>
      c.json({ defaultModel: deps.config.defaultModel, models: MODELS }, 200, {
        "Cache-Control": "public, max-age=300",
      }),
  );

  return app;
}
