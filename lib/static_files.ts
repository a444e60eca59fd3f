/**
 * Serves the val's own static files (the page, its modules and styles) through an injected
 * {@linkcode FileReader}: a content type from a short allow-list by extension, whole-line comments
 * stripped from JS and CSS, `Cache-Control: no-cache` and an ETag (Hono's `etag` middleware, which
 * answers `If-None-Match` with 304 and accepts the weak tags Deno's compression makes). Unknown
 * types, unsafe paths and missing files are a 404 JSON error. Nothing here touches the store.
 *
 * @module
 */
import type { MiddlewareHandler } from "npm:hono@4.13.19";
import { etag } from "npm:hono@4.13.19/etag";
import { apiError } from "./api_errors.ts";
import type { Logger } from "./deps.ts";
import { FileNotFoundError, type FileReader, isSafePath } from "./files.ts";
import { stripComments } from "./strip_comments.ts";

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

/** Options for {@linkcode staticFiles}. */
export interface StaticFilesOptions {
  readFile: FileReader;
  log: Logger;
}

/** What {@linkcode staticFiles} gives the routes: the ETag middleware and a file responder. */
export interface StaticFiles {
  /** Adds the ETag and answers a matching `If-None-Match` with 304 (Hono's `etag`). */
  etag: MiddlewareHandler;
  /** Answers with the file at `path` (relative to the project root). */
  serve(path: string): Promise<Response>;
}

/**
 * Builds the static-file responder.
 *
 * @example
 * ```ts
 * const files = staticFiles({ readFile, log });
 * app.use("/frontend/*", files.etag);
 * app.get("/frontend/*", (c) => files.serve(c.req.path.slice(1)));
 * ```
 */
export function staticFiles(options: StaticFilesOptions): StaticFiles {
  async function serve(path: string): Promise<Response> {
    const ext = path.slice(path.lastIndexOf(".") + 1).toLowerCase();
    const type = CONTENT_TYPES[ext];
    if (!type || !isSafePath(path)) {
      return apiError(404, "not_found", "No such file");
    }
    let bytes: Uint8Array;
    try {
      bytes = await options.readFile(path);
    } catch (err) {
      if (err instanceof FileNotFoundError) {
        return apiError(404, "not_found", "No such file");
      }
      options.log("error", "Cannot read a page file", { path, error: String(err) });
      return apiError(503, "file_unavailable", "The file cannot be read right now");
    }
    if (ext === "js" || ext === "css") {
      // Whole-line comments are a third of the page's gzip bytes; the browser needs none of them.
      bytes = new TextEncoder().encode(stripComments(new TextDecoder().decode(bytes), ext));
    }
    return new Response(bytes as Uint8Array<ArrayBuffer>, {
      status: 200,
      headers: {
        "Content-Type": type,
        // Revalidate every time: a redeploy must reach open tabs; the ETag makes that cheap.
        "Cache-Control": "no-cache",
      },
    });
  }
  return { etag: etag(), serve };
}
