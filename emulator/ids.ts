/**
 * Identifier generators with the prefixes the real API uses.
 *
 * @module
 */

function randomHex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function randomAlnum(n: number): string {
  const b = crypto.getRandomValues(new Uint8Array(n));
  return Array.from(b, (x) => ALNUM[x % ALNUM.length]).join("");
}

/** A new `event_…` id for a server event. */
export function eventId(): string {
  return `event_${randomAlnum(21)}`;
}

/** A new `item_…` id. */
export function itemId(): string {
  return `item_${randomAlnum(21)}`;
}

/** A new `sess_…` id. */
export function sessionId(): string {
  return `sess_${randomAlnum(21)}`;
}

/** A new `rtc_…` call id (the docs' `rtc_u1_<32 hex>` shape). */
export function callId(): string {
  return `rtc_u1_${randomHex(16)}`;
}

/** A new `req_<32 hex>` request id (the `x-request-id` header of every REST answer). */
export function requestId(): string {
  return `req_${randomHex(16)}`;
}

/** A new ephemeral key `ek_<32 hex>`. */
export function ephemeralKey(): string {
  return `ek_${randomHex(16)}`;
}

/** A new webhook delivery id `wh_<32 hex>`. */
export function webhookId(): string {
  return `wh_${randomHex(16)}`;
}

/** A new webhook event id `evt_<32 hex>`. */
export function webhookEventId(): string {
  return `evt_${randomHex(16)}`;
}

/** A random alphanumeric string (e.g. the `obfuscation` field of deltas). */
export function randomToken(n = 11): string {
  return randomAlnum(n);
}
