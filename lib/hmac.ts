/**
 * HMAC-SHA256 and a constant-time comparison, written once for every signed or secret value: the
 * session ticket, the access cookie and code, webhook signatures, the client pseudonym, derived
 * secrets and the internal secret header. Keys from text secrets are imported once and cached
 * (a few secrets per process).
 *
 * @module
 */

const encoder = new TextEncoder();
const keyCache = new Map<string, Promise<CryptoKey>>();

/** Text is UTF-8 encoded; bytes are used as they are. */
export type HmacInput = string | Uint8Array;

const bytesOf = (value: HmacInput) =>
  (typeof value === "string" ? encoder.encode(value) : value) as Uint8Array<ArrayBuffer>;

/**
 * The HMAC-SHA256 key for `secret` (sign and verify). Text secrets are cached; byte secrets (a
 * decoded `whsec_` value) are imported each time.
 */
export function hmacKey(secret: HmacInput): Promise<CryptoKey> {
  const importKey = () =>
    crypto.subtle.importKey("raw", bytesOf(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
  if (typeof secret !== "string") return importKey();
  let key = keyCache.get(secret);
  if (!key) {
    key = importKey();
    // Bounded: a process has a handful of secrets; tests make more.
    if (keyCache.size > 16) keyCache.clear();
    keyCache.set(secret, key);
  }
  return key;
}

/**
 * HMAC-SHA256 of `message` under `secret` (a text or byte secret, or an imported key).
 *
 * @example
 * ```ts
 * const mac = await hmacSign("secret", "payload");
 * mac.length; // 32
 * ```
 */
export async function hmacSign(
  secret: HmacInput | CryptoKey,
  message: HmacInput,
): Promise<Uint8Array<ArrayBuffer>> {
  const key = secret instanceof CryptoKey ? secret : await hmacKey(secret);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, bytesOf(message)));
}

/** True when `mac` is the HMAC of `message`; `crypto.subtle.verify` compares in constant time. */
export async function hmacVerify(
  secret: HmacInput | CryptoKey,
  mac: Uint8Array,
  message: HmacInput,
): Promise<boolean> {
  const key = secret instanceof CryptoKey ? secret : await hmacKey(secret);
  return await crypto.subtle.verify("HMAC", key, bytesOf(mac), bytesOf(message));
}

/**
 * Compares two secrets without leaking where they differ or how long they are: both are hashed
 * to 32 bytes and the hashes compared with no early exit.
 */
export async function constantTimeEqual(a: HmacInput, b: HmacInput): Promise<boolean> {
  const [x, y] = await Promise.all([
    crypto.subtle.digest("SHA-256", bytesOf(a)),
    crypto.subtle.digest("SHA-256", bytesOf(b)),
  ]);
  const u = new Uint8Array(x);
  const v = new Uint8Array(y);
  let diff = 0;
  for (let i = 0; i < u.length; i++) diff |= u[i] ^ v[i];
  return diff === 0;
}

/** Base64url without padding, the form every signed value here is written in. */
export function base64url(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}
