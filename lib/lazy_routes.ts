/**
 * A sub-app whose module loads on its first request: for routes most processes never serve (the
 * SIP webhooks), so their modules stay off the path to the first byte of `/`. The loaded
 * sub-app answers with the same request and `env` (connection info) and sees the variables the
 * outer middleware set (`c.get`: the client key, the mint admission, …), and the outer middleware
 * sees the ones it set; a path it has no route for is the app's JSON 404, and its errors reach
 * the app's error handler.
 *
 * @module
 */
import { type Context, Hono } from "npm:hono@4.13.19";
import { routeNotFound } from "./api_errors.ts";

// The outer request's context, found by the inner app through the same `Request` object.
const outerContexts = new WeakMap<Request, Context>();

function copyVars(from: Context, to: Context): void {
  for (const [name, value] of Object.entries(from.var ?? {})) {
    (to as Context<{ Variables: Record<string, unknown> }>).set(name, value);
  }
}

/**
 * Mounts `load()`'s sub-app at `base`, loading it once on first use (again after a failed load).
 *
 * @example
 * ```ts
 * const WEBHOOKS = new URL("./routes/webhooks.ts", import.meta.url).href;
 * app.route("/webhooks", lazyRoutes("/webhooks", async () => (await import(WEBHOOKS)).webhookRoutes(deps)));
 * ```
 */
export function lazyRoutes(base: string, load: () => Promise<Hono>): Hono {
  let loaded: Promise<Hono> | null = null;
  const inner = () =>
    loaded ??= load().then((sub) => {
      const app = new Hono();
      // The inner request gets a new Context: carry the middleware's variables in and back out.
      app.use(async (c, next) => {
        const outer = outerContexts.get(c.req.raw);
        if (outer) copyVars(outer, c);
        await next();
        if (outer) copyVars(c, outer);
      });
      app.route(base, sub);
      app.notFound(() => routeNotFound());
      // Rethrown so the outer app's onError answers, as for any other route.
      app.onError((err) => {
        throw err;
      });
      return app;
    }).catch((err) => {
      loaded = null;
      throw err;
    });
  const app = new Hono();
  app.all("*", async (c) => {
    const sub = await inner();
    outerContexts.set(c.req.raw, c);
    try {
      return await sub.fetch(c.req.raw, c.env);
    } finally {
      outerContexts.delete(c.req.raw);
    }
  });
  return app;
}
