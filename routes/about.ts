/**
 * About this server, under `/api`: `GET /api/config` (what the page must know before it shows
 * anything: demo mode, missing-key help, limits), `GET /api/models` (the transcription model
 * catalog of `lib/models.ts` with each model's options and dates, plus the default) and
 * `GET /api/openapi.json` (the OpenAPI 3.1 document built from the routes' zod schemas, built on
 * first request). None of them touches the store.
 *
 * @module
 */
import { Hono } from "npm:hono@4.13.19";
import type { AppDeps } from "../lib/deps.ts";
import { MODELS } from "../lib/models.ts";
import { publicSecurityInfo } from "../lib/security/mod.ts";
import { translationInfo } from "../lib/translation_languages.ts";
import { loadLater } from "../lib/load_later.ts";

const loadOpenApi = loadLater<typeof import("../lib/openapi.ts")>(
  new URL("../lib/openapi.ts", import.meta.url),
);

/** Routes for `/api/config`, `/api/models` and `/api/openapi.json` (mounted at `/api`). */
export function aboutRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  const { config } = deps;
  let openApiDocument: Promise<unknown> | null = null;

  // What the page must know first: demo mode, missing key help, models, limits.
  app.get("/config", (c) => {
    const hasKey = config.openaiApiKey !== null;
    const envVarsUrl = deps.envVarsUrl;
    let keyHelp:
      | { envVar: string; url: string | null; message: string }
      | null = null;
    if (!hasKey) {
      keyHelp = {
        envVar: "OPENAI_API_KEY",
        url: config.platform === "valtown" ? envVarsUrl : null,
        message: config.platform === "valtown"
          ? `Set OPENAI_API_KEY in this val's environment variables${
            envVarsUrl ? ` (${envVarsUrl})` : " (the val's sidebar → Environment variables)"
          }, then reload.`
          : "Set OPENAI_API_KEY in your shell or .env and restart the server.",
      };
    }
    return c.json(
      {
        demo: config.demo,
        demoMessage: config.demo
          ? "Offline demo — transcripts are placeholders, set OPENAI_API_KEY for real ones"
          : null,
        hasKey,
        keyHelp,
        platform: config.platform,
        defaultModel: config.defaultModel,
        realtimeBaseUrl: config.openaiBaseUrl,
        sipEnabled: config.sip.enabled,
        translation: translationInfo(config.maxTranslations, config.limits.concurrentSessionsPerIp),
        ...publicSecurityInfo(config),
      },
      200,
      { "Cache-Control": "no-store" },
    );
  });

  // The model catalog and the default model.
  app.get(
    "/models",
    (c) =>
      c.json({ defaultModel: config.defaultModel, models: MODELS }, 200, {
        "Cache-Control": "public, max-age=300",
      }),
  );

  // The OpenAPI document of every /api route.
  app.get("/openapi.json", async (c) => {
    // Run on the first request for it: building the document walks every schema.
    openApiDocument ??= loadOpenApi().then((m) => m.buildOpenApiDocument()).catch(
      (err) => {
        openApiDocument = null;
        throw err;
      },
    );
    return c.json(await openApiDocument, 200, { "Cache-Control": "public, max-age=300" });
  });

  return app;
}
