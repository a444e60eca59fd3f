/**
 * Short-lived tickets: an HMAC-SHA256-signed token binding a session id, handed to the page with
 * the ephemeral key and required by the call routes (sideband, hangup, fallback SDP relay).
 * Format: `base64url(JSON payload) "." base64url(mac)`. Uses only `crypto.subtle`.
 *
 * @module
 */
import { base64url, hmacSign, hmacVerify } from "./hmac.ts";

/** What a valid ticket proves. */
export interface TicketClaims {
  /** The Store session id the ticket was issued for. */
  sessionId: string;
  /** Expiry, Unix milliseconds. */
  expiresAt: number;
}

/** Options for {@linkcode createTicket}. */
export interface CreateTicketOptions {
  /** The signing secret (`config.signingSecret`). */
  secret: string;
  /** Lifetime in seconds. */
  ttlSeconds: number;
  /** Clock override for tests (Unix ms). */
  now?: number;
}

/** Options for {@linkcode verifyTicket}. */
export interface VerifyTicketOptions {
  secret: string;
  now?: number;
}

const encoder = new TextEncoder();

/**
 * Signs a ticket for a session.
 *
 * @example
 * ```ts
 * const ticket = await createTicket("ses_1", { secret: "0123456789abcdef", ttlSeconds: 60 });
 * ```
 */
export async function createTicket(
  sessionId: string,
  options: CreateTicketOptions,
): Promise<string> {
  const exp = (options.now ?? Date.now()) + options.ttlSeconds * 1000;
  const payload = base64url(
    encoder.encode(JSON.stringify({ sid: sessionId, exp })),
  );
  const mac = await hmacSign(options.secret, payload);
  return `${payload}.${base64url(mac)}`;
}

/** Verifies a ticket's signature and expiry; null when it is malformed, forged or expired. */
export async function verifyTicket(
  ticket: unknown,
  options: VerifyTicketOptions,
): Promise<TicketClaims | null> {
  if (typeof ticket !== "string" || ticket.length > 1024) return null;
  const parts = ticket.split(".");
  if (parts.length !== 2) return null;
  const [payload, macText] = parts;
  let mac: Uint8Array<ArrayBuffer>;
  let claims: unknown;
  try {
    mac = Uint8Array.fromBase64(macText, { alphabet: "base64url" });
    const ok = await hmacVerify(options.secret, mac, payload);
    if (!ok) return null;
    claims = JSON.parse(
      new TextDecoder().decode(
        Uint8Array.fromBase64(payload, { alphabet: "base64url" }),
      ),
    );
  } catch {
    return null;
  }
  if (typeof claims !== "object" || claims === null) return null;
  const { sid, exp } = claims as { sid?: unknown; exp?: unknown };
  if (typeof sid !== "string" || typeof exp !== "number") return null;
  if (exp <= (options.now ?? Date.now())) return null;
  return { sessionId: sid, expiresAt: exp };
}
