/**
 * What the val answers while it cannot start (a bad environment variable, a store that cannot
 * open): JSON `{error:{code,message}}` for `/api/*` and for clients that ask for JSON, and for a
 * browser a small real page (title, language, a heading, one plain sentence and one action), so
 * a visitor never meets raw JSON. The owner's detail (which variable, what is wrong with it) sits
 * behind a disclosure; no value of any variable is ever shown.
 *
 * @module
 */

/** What went wrong, as the startup code knows it. */
export interface StartupProblem {
  /** The message for the owner (a `ConfigError`'s, or a generic one); never holds a value. */
  message: string;
  /** The variable whose value was refused, when one was. */
  variable: string | null;
}

/** Whether a request wants a page rather than JSON. */
export function wantsPage(req: Request): boolean {
  const path = new URL(req.url).pathname;
  if (path.startsWith("/api/") || path === "/api") return false;
  const accept = req.headers.get("accept") ?? "";
  return req.method === "GET" && /\btext\/html\b/i.test(accept);
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** The page a browser gets while the val cannot start. */
export function startupPageHtml(problem: StartupProblem): string {
  const sentence = problem.variable
    ? `One of its settings (${problem.variable}) has a value it cannot use, ` +
      "so whoever runs this app needs to change it."
    : "Something went wrong while it was starting; whoever runs this app can find why in its logs.";
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="robots" content="noindex">
<title>Not available right now — hello-transcription</title>
<style>
body { margin: 0; font: 18px/1.5 system-ui, sans-serif; background: Canvas; color: CanvasText; }
main { max-width: 36rem; margin: 0 auto; padding: 3rem 1.25rem; }
h1 { font-size: 1.5rem; line-height: 1.25; margin: 0 0 1rem; }
a { display: inline-flex; align-items: center; min-height: 44px; padding: 0 1.25rem;
  border: 2px solid currentColor; border-radius: 8px; color: LinkText; font-weight: 600; }
details { margin-top: 2rem; font-size: 0.9rem; }
summary { cursor: pointer; min-height: 44px; display: flex; align-items: center; }
</style>
</head>
<body>
<main>
<h1>This app cannot start right now</h1>
<p>${escapeHtml(sentence)}</p>
<p><a href="">Try again</a></p>
<details>
<summary>Details for whoever runs it</summary>
<p>${escapeHtml(problem.message)}</p>
</details>
</main>
</body>
</html>
`;
}

/** The 503 answer for one request while the val cannot start. */
export function startupFailureResponse(req: Request, problem: StartupProblem): Response {
  const headers = {
    "Retry-After": "5",
    "Cache-Control": "no-store",
    // The app's own CORS header even here (its origin, as the platform restored the URL), so Val
    // Town's `Access-Control-Allow-Origin: *` default never applies (lib/security/cors.ts).
    "Access-Control-Allow-Origin": new URL(req.url).origin,
  };
  if (!wantsPage(req)) {
    return Response.json({ error: { code: "startup_failed", message: problem.message } }, {
      status: 503,
      headers,
    });
  }
  return new Response(startupPageHtml(problem), {
    status: 503,
    headers: {
      ...headers,
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy":
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; " +
        "frame-ancestors 'none'",
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
    },
  });
}
