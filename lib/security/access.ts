/**
 * The optional access code (`ACCESS_CODE`): the signed cookie that proves a visitor typed it, the
 * constant-time check of a submitted code, the per-IP guessing throttle, and the gate that keeps
 * every page and `/api` route behind the cookie.
 *
 * Cookie value: `v1.<expires unix seconds>.<base64url HMAC-SHA256(signingSecret, "access|v1|<expires>|<code>")>`
 * (with `g<generation>|` before the code once a sign-out has revoked cookies). Binding the code
 * into the MAC means changing `ACCESS_CODE` signs everyone out; binding the Store's generation
 * counter means a sign-out does too ({@linkcode accessGeneration}), so a copied cookie dies with it.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "npm:hono@4.13.19";
import { getCookie } from "npm:hono@4.13.19/cookie";
import type { ErrorBody } from "../deps.ts";
import type { Store } from "../store/types.ts";
import { base64url, hmacSign, hmacVerify } from "../hmac.ts";
import { underPrefix } from "./same_origin.ts";
import { secondsToWindowEnd } from "./windows.ts";

/** Name of the access cookie. */
export const ACCESS_COOKIE = "ht_access";

/** Path of the sign-in page. */
export const SIGNIN_PATH = "/auth/signin";

/** How long a sign-in lasts by default, seconds (7 days). */
export const ACCESS_COOKIE_TTL_SECONDS = 7 * 24 * 3600;

/** What the cookie's MAC covers. */
function cookieMessage(expiresAt: number, accessCode: string, generation: number): string {
  return generation === 0
    ? `access|v1|${expiresAt}|${accessCode}`
    : `access|v1|${expiresAt}|g${generation}|${accessCode}`;
}

/**
 * Creates a signed access cookie value that expires at `expiresAt` (unix seconds), valid while
 * the cookie generation is `generation`.
 */
export async function signAccessCookie(
  secret: string,
  accessCode: string,
  expiresAt: number,
  generation = 0,
): Promise<string> {
  const sig = base64url(
    await hmacSign(secret, cookieMessage(expiresAt, accessCode, generation)),
  );
  return `v1.${expiresAt}.${sig}`;
}

/**
 * True when `value` is an unexpired cookie signed for this secret, code and generation. The MAC
 * comparison is `crypto.subtle.verify` (constant time).
 */
export async function verifyAccessCookie(
  secret: string,
  accessCode: string,
  value: string | undefined,
  nowMs = Date.now(),
  generation = 0,
): Promise<boolean> {
  if (!value || value.length > 200) return false;
  const m = /^v1\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m) return false;
  const expiresAt = Number(m[1]);
  if (!(expiresAt * 1000 > nowMs)) return false;
  let sig: Uint8Array<ArrayBuffer>;
  try {
    sig = Uint8Array.fromBase64(m[2], { alphabet: "base64url" });
  } catch {
    return false;
  }
  return await hmacVerify(secret, sig, cookieMessage(expiresAt, accessCode, generation));
}

/** The access cookies' generation: a sign-out moves it on, revoking every cookie signed before. */
export interface AccessGeneration {
  /** The current generation (cached for a few seconds per process). */
  current(now?: number): Promise<number>;
  /** Moves to a new generation; every earlier cookie stops working. Returns the new one. */
  revoke(now?: number): Promise<number>;
}

const GENERATION_KEY = "access-cookie-generation";
/** A window no counter outlives: the generation never resets. */
const GENERATION_WINDOW_MS = 1e13;
/** Other processes learn of a revocation within this long. */
const GENERATION_CACHE_MS = 5_000;
const generations = new WeakMap<Store, AccessGeneration>();

/** The cookie generation kept in this Store (one shared instance per Store). */
export function accessGeneration(store: Store): AccessGeneration {
  const known = generations.get(store);
  if (known) return known;
  let cached: { value: number; at: number } | null = null;
  const made: AccessGeneration = {
    async current(now = Date.now()) {
      if (cached && now - cached.at < GENERATION_CACHE_MS) return cached.value;
      const value = await store.readCounter(GENERATION_KEY, GENERATION_WINDOW_MS, now);
      cached = { value, at: now };
      return value;
    },
    async revoke(now = Date.now()) {
      const value = await store.incrementCounter(GENERATION_KEY, GENERATION_WINDOW_MS, 1, now);
      cached = { value, at: now };
      return value;
    },
  };
  generations.set(store, made);
  return made;
}

/**
 * Compares a submitted code with the configured one without leaking timing: both are MACed and
 * the MACs are compared by `crypto.subtle.verify`.
 */
export async function accessCodeMatches(
  secret: string,
  expected: string,
  submitted: string,
): Promise<boolean> {
  const expectedMac = await hmacSign(secret, `code|${expected}`);
  return await hmacVerify(secret, expectedMac, `code|${submitted}`);
}

/** Options for {@linkcode signinThrottle}. */
export interface SigninThrottleOptions {
  store: Store;
  /** @default {10} attempts per client per window (successful ones are given back) */
  perClient?: number;
  /** @default {200} attempts from everyone per window */
  global?: number;
  /** @default {900000} (15 minutes) */
  windowMs?: number;
}

/**
 * Counts sign-in attempts in the Store so the limit holds across processes. An attempt is counted
 * BEFORE the code is checked, so a burst of parallel guesses cannot slip past the limit; a
 * successful sign-in gives its attempt back.
 */
export function signinThrottle(options: SigninThrottleOptions): {
  /** Counts one attempt; seconds to wait when it is over the limit (refuse it), else null. */
  attempt(clientKey: string, now?: number): Promise<number | null>;
  /** Gives back the attempt of a sign-in that succeeded (pass the attempt's `now`). */
  succeeded(clientKey: string, now?: number): Promise<void>;
} {
  const windowMs = options.windowMs ?? 15 * 60_000;
  const perClient = options.perClient ?? 10;
  const global = options.global ?? 200;
  const store = options.store;
  return {
    async attempt(key, now = Date.now()) {
      const wait = secondsToWindowEnd(windowMs, now);
      const mine = await store.incrementCounter(
        `signin:${key}`,
        windowMs,
        1,
        now,
      );
      if (mine > perClient) return wait;
      const all = await store.incrementCounter("signin:*", windowMs, 1, now);
      return all > global ? wait : null;
    },
    async succeeded(key, now = Date.now()) {
      await store.incrementCounter(`signin:${key}`, windowMs, -1, now);
      await store.incrementCounter("signin:*", windowMs, -1, now);
    },
  };
}

/** Options for {@linkcode accessGate}. */
export interface AccessGateOptions {
  /** The configured code; null disables the gate. */
  accessCode: string | null;
  /** The signing secret, or a getter read per request (the Store's may arrive after start). */
  signingSecret: string | (() => string);
  /** The cookie generation (revocation); generation 0 forever when omitted. */
  generation?: AccessGeneration;
  /**
   * Path prefixes reachable without the cookie.
   * @default {["/auth", "/webhooks/openai", "/internal"]}
   */
  open?: string[];
}

/** True when the request carries a valid access cookie (always true with no code set). */
export async function hasAccess(
  c: Context,
  options: Pick<AccessGateOptions, "accessCode" | "signingSecret" | "generation">,
): Promise<boolean> {
  if (options.accessCode === null) return true;
  const value = getCookie(c, ACCESS_COOKIE);
  if (!value) return false;
  return await verifyAccessCookie(
    typeof options.signingSecret === "string" ? options.signingSecret : options.signingSecret(),
    options.accessCode,
    value,
    Date.now(),
    (await options.generation?.current()) ?? 0,
  );
}

/**
 * Requires the access cookie on everything except the open prefixes: `/api/*` (and non-page
 * requests) get 401 JSON, page requests a 302 to the sign-in page (Val Town needs a plain 302 with
 * `Location`, not `Response.redirect`). `/internal` has its own secret and `/webhooks/openai` its
 * own signature.
 *
 * @example
 * ```ts
 * app.use(accessGate({ accessCode: config.accessCode, signingSecret: config.signingSecret }));
 * ```
 */
export function accessGate(options: AccessGateOptions): MiddlewareHandler {
  const open = options.open ?? ["/auth", "/webhooks/openai", "/internal"];
  return async function accessGateMiddleware(c, next) {
    if (options.accessCode === null || underPrefix(c.req.path, open)) {
      return await next();
    }
    if (await hasAccess(c, options)) return await next();
    const isPage = !underPrefix(c.req.path, ["/api"]) &&
      (c.req.method === "GET" || c.req.method === "HEAD") &&
      (c.req.header("accept") ?? "").includes("text/html");
    if (isPage) {
      const url = new URL(c.req.url);
      const next = encodeURIComponent(url.pathname + url.search);
      return new Response(null, {
        status: 302,
        headers: {
          Location: `${SIGNIN_PATH}?next=${next}`,
          "Cache-Control": "no-store",
        },
      });
    }
    return c.json<ErrorBody>({
      error: {
        code: "access_code_required",
        message: "Sign in with the access code first",
      },
    }, 401);
  };
}
