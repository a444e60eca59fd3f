/**
 * Sign-in with the optional access code (`ACCESS_CODE`): the page, the form post that sets the
 * signed cookie, and sign-out. Works without JavaScript (a plain form); JSON clients get JSON.
 *
 * @module
 */
import { type Context, Hono } from "npm:hono@4.13.19";
import { deleteCookie, setCookie } from "npm:hono@4.13.19/cookie";
import { z } from "npm:zod@4.6.7";
import type { AppDeps, ErrorBody } from "../lib/deps.ts";
import {
  ACCESS_COOKIE,
  ACCESS_COOKIE_TTL_SECONDS,
  accessCodeMatches,
  accessGeneration,
  hasAccess,
  signAccessCookie,
  SIGNIN_PATH,
  signinThrottle,
} from "../lib/security/access.ts";
import { clientIp, clientKey } from "../lib/security/client_ip.ts";

const SigninBody = z.object({
  code: z.string().min(1).max(200),
  next: z.string().max(500).optional(),
});

/** A same-site path to return to after sign-in, or `/`. */
export function safeNext(next: unknown): string {
  if (typeof next !== "string" || next.length > 500) return "/";
  if (
    !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")
  ) return "/";
  if (!/^[\x21-\x7e]*$/.test(next) || next.includes("\\")) return "/";
  return next;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function redirect(location: string): Response {
  return new Response(null, { status: 302, headers: { Location: location } });
}

/** Routes under `/auth`. */
export function authRoutes(deps: AppDeps): Hono {
  const { config, store } = deps;
  const app = new Hono();
  const throttle = signinThrottle({ store });
  const generation = accessGeneration(store);
  // The secret is read per request: generated ones arrive from the Store after start.
  const access = {
    accessCode: config.accessCode,
    signingSecret: () => config.signingSecret,
    generation,
  };

  const page = async (
    c: Context,
    next: string,
    message: string,
    status: 200 | 401 | 429,
  ) => {
    const html = new TextDecoder().decode(
      await deps.readFile("frontend/signin.html"),
    )
      // Replacer functions: a string replacement would expand `$&`, `` $` `` and `$'` in `next`.
      .replace(/\{\{\s*next\s*\}\}/, () => escapeHtml(next))
      .replace(/\{\{\s*message\s*\}\}/, () => escapeHtml(message));
    return c.html(html, status);
  };

  // The sign-in page; with no access code set there is nothing to sign in to.
  app.get("/signin", async (c) => {
    const next = safeNext(c.req.query("next"));
    if (config.accessCode === null || await hasAccess(c, access)) {
      return redirect(next);
    }
    return await page(c, next, "", 200);
  });

  // The sign-in page's stylesheet (reachable before sign-in).
  app.get("/signin.css", async (c) => {
    const css = await deps.readFile("frontend/signin.css");
    return c.body(css.slice().buffer, 200, {
      "Content-Type": "text/css; charset=utf-8",
    });
  });

  // Checks the code (throttled per client), sets the signed cookie and returns to `next`.
  app.post("/signin", async (c) => {
    if (config.accessCode === null) {
      return c.json<ErrorBody>(
        {
          error: {
            code: "access_code_not_set",
            message: "This app has no access code",
          },
        },
        404,
      );
    }
    const type = c.req.header("content-type")?.toLowerCase() ?? "";
    const isJson = type.startsWith("application/json");
    let raw: unknown;
    try {
      raw = isJson ? await c.req.json() : await c.req.parseBody();
    } catch {
      raw = null;
    }
    const parsed = SigninBody.safeParse(raw);
    if (!parsed.success) {
      return c.json<ErrorBody>({
        error: {
          code: "invalid_request",
          message: "Send the access code as the field `code`",
        },
      }, 400);
    }
    const next = safeNext(parsed.data.next);
    const key = await clientKey(config.signingSecret, clientIp(c, config));
    const now = Date.now();
    const wait = await throttle.attempt(key, now);
    if (wait !== null) {
      c.header("Retry-After", String(wait));
      const message = `Too many attempts; try again in ${Math.ceil(wait / 60)} min`;
      if (isJson) {
        return c.json<ErrorBody>({
          error: { code: "signin_throttled", message },
        }, 429);
      }
      return await page(c, next, message, 429);
    }
    if (
      !await accessCodeMatches(
        config.signingSecret,
        config.accessCode,
        parsed.data.code,
      )
    ) {
      const message = "That code is not right";
      if (isJson) {
        return c.json<ErrorBody>({
          error: { code: "invalid_access_code", message },
        }, 401);
      }
      return await page(c, next, message, 401);
    }
    await throttle.succeeded(key, now);
    const expiresAt = Math.floor(Date.now() / 1000) + ACCESS_COOKIE_TTL_SECONDS;
    const secure = new URL(c.req.url).protocol === "https:" ||
      config.platform === "valtown";
    setCookie(
      c,
      ACCESS_COOKIE,
      await signAccessCookie(
        config.signingSecret,
        config.accessCode,
        expiresAt,
        await generation.current(),
      ),
      {
        path: "/",
        httpOnly: true,
        sameSite: "Strict",
        secure,
        maxAge: ACCESS_COOKIE_TTL_SECONDS,
      },
    );
    if (isJson) return c.json({ ok: true, next });
    c.status(302);
    c.header("Location", next);
    return c.body(null);
  });

  // Forgets the cookie and, for a signed-in caller, revokes every access cookie signed so far (a
  // copied one included): everyone signs in again. Without a valid cookie it revokes nothing, so
  // a stranger cannot sign everyone out.
  app.post("/signout", async (c) => {
    if (config.accessCode !== null && await hasAccess(c, access)) await generation.revoke();
    deleteCookie(c, ACCESS_COOKIE, { path: "/" });
    c.status(302);
    c.header("Location", SIGNIN_PATH);
    return c.body(null);
  });

  return app;
}
