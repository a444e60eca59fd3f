/**
 * `GET /s/:id`: the read-only share viewer (`frontend/viewer.html`), which shows a live or past
 * session's captions through `/api/sessions/:id/events`. The id in the link is unguessable.
 *
 * @module
 */
import { Hono } from "npm:hono@4.13.19";
import type { AppDeps } from "../lib/deps.ts";
import { isSessionId } from "../lib/store/ids.ts";

/** Routes for `/s`. */
export function viewerRoutes(deps: AppDeps): Hono {
  const app = new Hono();

  // The viewer page for one session (same page with 404 for an unknown id: it says so itself).
  app.get("/:id", async (c) => {
    const id = c.req.param("id");
    const found = isSessionId(id) && (await deps.store.getSession(id)) !== null;
    const html = await deps.readFile("frontend/viewer.html");
    return c.body(html as Uint8Array<ArrayBuffer>, found ? 200 : 404, {
      "Content-Type": "text/html; charset=utf-8",
      "Cache-Control": "no-cache",
      "Referrer-Policy": "no-referrer",
    });
  });

  return app;
}
