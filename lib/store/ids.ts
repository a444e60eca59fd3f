/**
 * Public session ids: 128 random bits as unpadded base64url (22 characters), so a share link
 * `/s/:id` cannot be guessed.
 *
 * @module
 */

/** Shape of a session id accepted by the routes (22 to 64 base64url characters). */
export const SESSION_ID_PATTERN: RegExp = /^[A-Za-z0-9_-]{22,64}$/;

/**
 * A new unguessable session id (128 bits from the platform CSPRNG).
 *
 * @example
 * ```ts
 * const id = newSessionId(); // e.g. "q3V0mYb2Qy6wXJ9kq1m9Qg"
 * ```
 */
export function newSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

/** True when `id` has the shape of a session id. */
export function isSessionId(id: string): boolean {
  return SESSION_ID_PATTERN.test(id);
}
