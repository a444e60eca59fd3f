/**
 * The app's own CORS policy, on every response: reads are for this origin only. Val Town adds
 * `Access-Control-Allow-Origin: *` to any response that sets no CORS header itself, which would let
 * every web site read the API's answers from a visitor's browser; naming the app's own origin
 * turns that default off and grants no other origin anything. Preflights (`OPTIONS` with
 * `Access-Control-Request-Method`) get 204 with the same origin and no allowed methods or headers,
 * so a cross-origin page cannot send a non-simple request either. `Cross-Origin-Resource-Policy:
 * same-origin` keeps other sites from embedding the answers (`<script src>`, `<img>`).
 *
 * @module
 */
import type { MiddlewareHandler } from "npm:hono@4.13.19";
import type { OwnOrigin } from "./own_origin.ts";

/**
 * Sets the same-origin CORS headers on every response and answers preflights itself.
 *
 * @example
 * ```ts
 * app.use(corsPolicy(new OwnOrigin({ platform: "local", publicOrigin: null })));
 * ```
 */
export function corsPolicy(own: OwnOrigin): MiddlewareHandler {
  return async function corsPolicyMiddleware(c, next) {
    const origin = own.forCors(c);
    if (c.req.method === "OPTIONS" && c.req.header("access-control-request-method")) {
      return new Response(null, {
        status: 204,
        headers: {
          "Access-Control-Allow-Origin": origin,
          "Access-Control-Max-Age": "600",
          "Cross-Origin-Resource-Policy": "same-origin",
          Vary: "Origin",
        },
      });
    }
    await next();
    const apply = (headers: Headers) => {
      headers.set("Access-Control-Allow-Origin", origin);
      headers.delete("Access-Control-Allow-Credentials");
      headers.set("Cross-Origin-Resource-Policy", "same-origin");
      headers.append("Vary", "Origin");
    };
    try {
      apply(c.res.headers);
    } catch {
      c.res = new Response(c.res.body, c.res);
      apply(c.res.headers);
    }
  };
}
