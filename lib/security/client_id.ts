/**
 * Who owns a session, for listing and deleting it on a public val: a random client id the server
 * hands the browser in an `HttpOnly`, `SameSite=Lax` cookie (set on the first page load or mint
 * that finds none), never the IP address. Another web site cannot replay it:
 * `SameSite=Lax` keeps it off cross-site `fetch()` requests, the app's CORS policy
 * (`cors.ts`) keeps cross-site pages from reading any answer, and `same_origin.ts` refuses
 * cross-site reads under `/api` outright. The Store keeps only an HMAC of the id (the owner key).
 *
 * The IP pseudonym (`client_ip.ts`) stays what the rate limits count; it authorises nothing.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "npm:hono@4.13.19";
import { getCookie, setCookie } from "npm:hono@4.13.19/cookie";
import type { Store } from "../store/types.ts";

/** Name of the client-id cookie. */
export const CLIENT_COOKIE = "ht_client";

/** The cookie lives a year: it is what ties a visitor to the sessions it started. */
export const CLIENT_COOKIE_MAX_AGE_SECONDS = 365 * 24 * 3600;

const ID_SHAPE = /^[A-Za-z0-9_-]{22}$/;
const OWNER_VAR = "ownerKey";

type Vars = { Variables: { ownerKey?: string } };

/** A new random client id: 128 bits, base64url, 22 characters. */
export function newClientId(): string {
  return crypto.getRandomValues(new Uint8Array(16)).toBase64({
    alphabet: "base64url",
    omitPadding: true,
  });
}

const keys = new Map<string, Promise<CryptoKey>>();

/** HMAC-SHA256(secret, "client-id:" + id), base64url, 22 characters: what the Store keeps. */
export async function ownerKeyOf(secret: string, clientId: string): Promise<string> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    keys.set(secret, key);
  }
  const mac = await crypto.subtle.sign(
    "HMAC",
    await key,
    new TextEncoder().encode(`client-id:${clientId}`),
  );
  return new Uint8Array(mac).subarray(0, 16).toBase64({ alphabet: "base64url", omitPadding: true });
}

/** Options for {@linkcode clientIdentity}. */
export interface ClientIdentityOptions {
  /** The signing secret, or a getter read per request (the Store's may arrive after start). */
  signingSecret: string | (() => string);
  store: Store;
  /** `Secure` cookie (https, Val Town). */
  secure: (c: Context) => boolean;
  /** Paths whose successful JSON answer names a new `sessionId` to bind to the requester. */
  mintPaths: string[];
  /** Paths whose `GET` hands a new visitor its cookie (the page, share links). */
  pagePaths: string[];
}

/**
 * The requester's owner key, set by {@linkcode clientIdentity}; null when the request carried no
 * client-id cookie (a first visit, curl without a cookie jar).
 */
export function requesterOwnerKey(c: Context): string | null {
  return (c as unknown as Context<Vars>).get(OWNER_VAR) ?? null;
}

/**
 * Reads the client-id cookie (or issues one), exposes its owner key to the routes, and binds every
 * session a mint path creates to it.
 *
 * @example
 * ```ts
 * app.use(clientIdentity({
 *   signingSecret,
 *   store,
 *   secure: () => false,
 *   mintPaths: ["/api/session"],
 *   pagePaths: ["/", "/s/*"],
 * }));
 * ```
 */
export function clientIdentity(options: ClientIdentityOptions): MiddlewareHandler {
  const mints = new Set(options.mintPaths);
  return async function clientIdentityMiddleware(c, next) {
    const sent = getCookie(c, CLIENT_COOKIE);
    const known = sent !== undefined && ID_SHAPE.test(sent);
    const minting = c.req.method === "POST" && mints.has(c.req.path);
    const page = c.req.method === "GET" &&
      options.pagePaths.some((p) =>
        p.endsWith("/*") ? c.req.path.startsWith(p.slice(0, -1)) : c.req.path === p
      );
    if (!known && !minting && !page) return await next();
    const id = known ? sent : newClientId();
    // A page visit only hands out the cookie: no page reads the owner, so it needs no secret.
    const secret = typeof options.signingSecret === "string"
      ? options.signingSecret
      : options.signingSecret();
    const owner = page ? null : await ownerKeyOf(secret, id);
    // Only a cookie the browser sent back proves anything; a fresh one owns nothing yet, except
    // what this very request creates.
    if (known && owner !== null) (c as unknown as Context<Vars>).set(OWNER_VAR, owner);
    await next();
    if (!known) {
      const cookie = () =>
        setCookie(c, CLIENT_COOKIE, id, {
          path: "/",
          httpOnly: true,
          sameSite: "Lax",
          secure: options.secure(c),
          maxAge: CLIENT_COOKIE_MAX_AGE_SECONDS,
        });
      try {
        cookie();
      } catch {
        // Immutable headers (a response passed through from fetch): copy it, then set.
        c.res = new Response(c.res.body, c.res);
        cookie();
      }
    }
    if (minting && c.res.status === 200) {
      const type = c.res.headers.get("content-type") ?? "";
      if (!type.includes("application/json")) return;
      let sessionId: unknown;
      try {
        sessionId = ((await c.res.clone().json()) as { sessionId?: unknown }).sessionId;
      } catch {
        return;
      }
      if (typeof sessionId === "string" && owner !== null) {
        await options.store.setSessionOwner(sessionId, owner);
      }
    }
  };
}
