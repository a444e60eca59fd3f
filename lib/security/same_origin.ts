/**
 * Cross-site request forgery defence: state-changing requests must come from this origin, so
 * another site cannot make a visitor's browser mint sessions (and spend the owner's money).
 *
 * A request is allowed when `Sec-Fetch-Site` is `same-origin` or `none` (typed URL, bookmarks), or
 * when its `Origin` names this host. A request with neither header is not from a browser (curl,
 * the val itself) and is allowed: the rate limits and spend caps cover it.
 *
 * Reads (`GET`/`HEAD`) under the `reads` prefixes follow the same rule, except top-level
 * navigations (a link to a transcript download): another site's `fetch()` of `/api/sessions`
 * never reaches a handler, whatever the browser's cookies or the platform's CORS default.
 *
 * @module
 */
import type { MiddlewareHandler } from "npm:hono@4.13.19";
import type { ErrorBody } from "../deps.ts";

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Options for {@linkcode sameOrigin}. */
export interface SameOriginOptions {
  /** Path prefixes to guard (e.g. `["/api", "/auth"]`); others pass untouched. */
  prefixes: string[];
  /** Path prefixes whose reads are guarded too (e.g. `["/api"]`). */
  reads?: string[];
}

/** True when `path` equals a prefix or lies below it. */
export function underPrefix(path: string, prefixes: string[]): boolean {
  return prefixes.some((p) => path === p || path.startsWith(p.endsWith("/") ? p : `${p}/`));
}

/**
 * The same-origin decision for one request, exported for tests and for routes outside the
 * middleware.
 */
export function isSameOriginRequest(req: Request): boolean {
  const site = req.headers.get("sec-fetch-site")?.toLowerCase();
  if (site === "same-origin" || site === "none") return true;
  if (site) return false; // same-site, cross-site, or anything unknown
  const origin = req.headers.get("origin");
  if (origin === null) return true; // not a browser
  let originHost: string;
  try {
    const parsed = new URL(origin);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      return false;
    }
    originHost = parsed.host.toLowerCase();
  } catch {
    return false; // "null" (sandboxed frames, file:) and garbage
  }
  const urlHost = new URL(req.url).host.toLowerCase();
  const hostHeader = req.headers.get("host")?.toLowerCase();
  return originHost === urlHost || originHost === hostHeader;
}

/**
 * Rejects cross-site POST/PUT/PATCH/DELETE under the given prefixes with 403 JSON.
 *
 * @example
 * ```ts
 * app.use(sameOrigin({ prefixes: ["/api", "/auth"] }));
 * ```
 */
export function sameOrigin(options: SameOriginOptions): MiddlewareHandler {
  return async function sameOriginMiddleware(c, next) {
    const guarded = UNSAFE.has(c.req.method)
      ? underPrefix(c.req.path, options.prefixes)
      : underPrefix(c.req.path, options.reads ?? []) &&
        c.req.header("sec-fetch-mode")?.toLowerCase() !== "navigate";
    if (guarded && !isSameOriginRequest(c.req.raw)) {
      return c.json<ErrorBody>({
        error: {
          code: "cross_origin_request",
          message: "This request must come from the app's own page",
        },
      }, 403);
    }
    await next();
  };
}
