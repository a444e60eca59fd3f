/**
 * The page and its static modules (`/`, `/frontend/*`, `/shared/*`), read through
 * `deps.readFile` (disk locally, Val Town's std utils there), and `GET /api/config`, the facts the
 * page needs before it shows anything (demo mode, missing key help, limits).
 *
 * @module
 */
import { Hono } from "npm:hono@4.13.19";
import type { Context } from "npm:hono@4.13.19";
import type { AppDeps } from "../lib/deps.ts";
import { apiError } from "../lib/api_errors.ts";
import { FileNotFoundError, isSafePath } from "../lib/files.ts";
import { publicSecurityInfo } from "../lib/security/mod.ts";
import { stripComments } from "../lib/strip_comments.ts";

/** Content types of the files the page is made of. */
export const CONTENT_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json; charset=utf-8",
  webmanifest: "application/manifest+json; charset=utf-8",
  svg: "image/svg+xml",
  txt: "text/plain; charset=utf-8",
  md: "text/markdown; charset=utf-8",
};

/** Where the page tells a Val Town owner to set the key, from the val's module URL. */
export function valTownEnvVarsUrl(
  moduleUrl: string | null | undefined,
): string | null {
  const m = moduleUrl?.match(
    /^https:\/\/esm\.town\/v\/([A-Za-z0-9_-]+)\/([A-Za-z0-9_.-]+?)(?:@[^/]*)?\//,
  );
  if (!m) return null;
  return `https://www.val.town/x/${m[1]}/${m[2]}/environment-variables?key=OPENAI_API_KEY`;
}

async function etagOf(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    bytes as Uint8Array<ArrayBuffer>,
  );
  return `"${new Uint8Array(digest).slice(0, 12).toBase64({ alphabet: "base64url" })}"`;
}

/** Routes for the page, its assets and `/api/config`. */
export function pageRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  const { config } = deps;

  async function serve(c: Context, path: string): Promise<Response> {
    const ext = path.slice(path.lastIndexOf(".") + 1).toLowerCase();
    const type = CONTENT_TYPES[ext];
    if (!type || !isSafePath(path)) {
      return apiError(404, "not_found", "No such file");
    }
    let bytes: Uint8Array;
    try {
      bytes = await deps.readFile(path);
    } catch (err) {
      if (err instanceof FileNotFoundError) {
        return apiError(404, "not_found", "No such file");
      }
      deps.log?.("error", "Cannot read a page file", {
        path,
        error: String(err),
      });
      return apiError(
        503,
        "file_unavailable",
        "The file cannot be read right now",
      );
    }
    if (ext === "js" || ext === "css") {
      // Whole-line comments are a third of the page's gzip bytes; the browser needs none of them.
      bytes = new TextEncoder().encode(stripComments(new TextDecoder().decode(bytes), ext));
    }
    const etag = await etagOf(bytes);
    const headers = {
      "Content-Type": type,
      // Revalidate every time: a redeploy must reach open tabs; the ETag makes that cheap.
      "Cache-Control": "no-cache",
      ETag: etag,
    };
    // Deno.serve compresses and weakens ETags (`W/"…"`), so compare without the weak prefix.
    const known = (c.req.header("if-none-match") ?? "").split(",").map((t) =>
      t.trim().replace(/^W\//, "")
    );
    if (known.includes(etag)) {
      return new Response(null, { status: 304, headers });
    }
    return new Response(bytes as Uint8Array<ArrayBuffer>, {
      status: 200,
      headers,
    });
  }

  // The page.
  app.get("/", (c) => serve(c, "frontend/index.html"));
  // The page's modules and styles.
  app.get("/frontend/*", (c) => serve(c, c.req.path.slice(1)));
  // Modules shared by the page and the server.
  app.get("/shared/*", (c) => serve(c, c.req.path.slice(1)));

  // What the page must know first: demo mode, missing key help, models, limits.
  app.get("/api/config", (c) => {
    const hasKey = config.openaiApiKey !== null;
    const envVarsUrl = deps.envVarsUrl ?? null;
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
        ...publicSecurityInfo(config),
      },
      200,
      { "Cache-Control": "no-store" },
    );
  });

  return app;
}
