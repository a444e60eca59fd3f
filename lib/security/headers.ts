/**
 * Security headers on every response: a Content-Security-Policy without inline script, no
 * referrer (share links carry unguessable ids), `nosniff`, no framing, and the microphone allowed
 * for this origin only.
 *
 * @module
 */
import type { MiddlewareHandler } from "npm:hono@4.13.19";

/** Options for {@linkcode securityHeaders}. */
export interface SecurityHeadersOptions {
  /**
   * Base URL of the Realtime API the page talks to directly (the WebRTC SDP exchange); its origin
   * is added to `connect-src`. Usually `config.openaiBaseUrl`; null when the page never does
   * (`SIGNALING=relay`).
   */
  realtimeBaseUrl: string | null;
}

/** Builds the Content-Security-Policy value for a Realtime API base URL. */
export function contentSecurityPolicy(realtimeBaseUrl: string | null): string {
  let origin = "";
  try {
    if (realtimeBaseUrl !== null) origin = new URL(realtimeBaseUrl).origin;
  } catch {
    origin = "";
  }
  const connect = origin && origin !== "null" ? `'self' ${origin}` : "'self'";
  return [
    "default-src 'self'",
    "script-src 'self'",
    `connect-src ${connect}`,
    "media-src 'self' blob:",
    "img-src 'self' data:",
    "style-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join("; ");
}

/**
 * Adds the security headers to every response, including errors and 404s. `/api/*` and `/auth/*`
 * responses also get `Cache-Control: no-store` unless the route set its own.
 *
 * @example
 * ```ts
 * app.use(securityHeaders({ realtimeBaseUrl: config.openaiBaseUrl }));
 * ```
 */
export function securityHeaders(
  options: SecurityHeadersOptions,
): MiddlewareHandler {
  const values: Record<string, string> = {
    "Content-Security-Policy": contentSecurityPolicy(options.realtimeBaseUrl),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "microphone=(self), camera=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
  };
  return async function securityHeadersMiddleware(c, next) {
    await next();
    const path = c.req.path;
    const dynamic = path.startsWith("/api/") || path === "/api" ||
      path.startsWith("/auth/");
    const apply = (headers: Headers) => {
      for (const [name, value] of Object.entries(values)) {
        headers.set(name, value);
      }
      if (dynamic && !headers.has("Cache-Control")) {
        headers.set("Cache-Control", "no-store");
      }
    };
    try {
      apply(c.res.headers);
    } catch {
      // Immutable headers (a response passed through from fetch): copy it, then set.
      c.res = new Response(c.res.body, c.res);
      apply(c.res.headers);
    }
  };
}
