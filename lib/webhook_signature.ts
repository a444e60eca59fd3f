/**
 * Standard Webhooks signatures, as OpenAI signs its webhooks (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature`). Verification works on the RAW body text, accepts several space-separated
 * `v1,<base64>` signatures, enforces a timestamp tolerance both ways and compares in constant time
 * through `crypto.subtle.verify`.
 *
 * @example
 * ```ts
 * const result = await verifyWebhook({
 *   secret: "whsec_…",
 *   headers: request.headers,
 *   body: await request.text(),
 * });
 * if (!result.ok) return new Response(result.message, { status: result.status });
 * ```
 *
 * @module
 */
import { hmacKey, hmacSign, hmacVerify } from "./hmac.ts";

/** Default tolerance between the signed timestamp and now, in seconds. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * Most `v1` signatures checked per delivery (a sender lists one per active secret, two while it
 * rotates). Without a cap, anyone could make the public route compute thousands of HMACs over a
 * 64 KiB body with one request; entries past the cap are ignored.
 */
export const MAX_SIGNATURES = 8;

const SECRET_PREFIX = "whsec_";

/** Why a delivery was refused. */
export type WebhookFailureCode =
  | "missing_headers"
  | "malformed_timestamp"
  | "malformed_signature"
  | "timestamp_too_old"
  | "timestamp_too_new"
  | "invalid_signature";

/** Outcome of {@linkcode verifyWebhook}. */
export type WebhookVerification =
  | { ok: true; id: string; timestamp: number }
  | {
    ok: false;
    /** 400 for a malformed delivery, 401 for a wrong, stale or future signature. */
    status: 400 | 401;
    code: WebhookFailureCode;
    message: string;
  };

/** Thrown when the configured secret cannot be used (bad base64 after `whsec_`, empty). */
export class WebhookSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookSecretError";
  }
}

/** Options for {@linkcode verifyWebhook}. */
export interface VerifyWebhookOptions {
  /** `whsec_<base64>` (key = decoded bytes) or any other string (key = its UTF-8 bytes). */
  secret: string;
  /** The request headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`). */
  headers: Headers;
  /** The raw body text, exactly as received. */
  body: string;
  /** Allowed clock difference in seconds; defaults to {@linkcode DEFAULT_TOLERANCE_SECONDS}. */
  toleranceSeconds?: number;
  /** Current time in Unix milliseconds; defaults to `Date.now()`. */
  now?: number;
}

/**
 * Verifies one delivery. Never throws for anything the sender controls; throws
 * {@linkcode WebhookSecretError} only when the configured secret is unusable.
 */
export async function verifyWebhook(
  options: VerifyWebhookOptions,
): Promise<WebhookVerification> {
  const { headers, body } = options;
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const key = await importSecret(options.secret);
  const id = headers.get("webhook-id");
  const timestampText = headers.get("webhook-timestamp");
  const signatureHeader = headers.get("webhook-signature");
  if (!id || !timestampText || !signatureHeader) {
    return fail(
      400,
      "missing_headers",
      "The webhook-id, webhook-timestamp and webhook-signature headers are required",
    );
  }
  if (!/^\d{1,12}$/.test(timestampText.trim())) {
    return fail(
      400,
      "malformed_timestamp",
      "The webhook-timestamp header is not a Unix time",
    );
  }
  const timestamp = Number.parseInt(timestampText.trim(), 10);
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  if (nowSeconds - timestamp > tolerance) {
    return fail(401, "timestamp_too_old", "The webhook timestamp is too old");
  }
  if (timestamp > nowSeconds + tolerance) {
    return fail(
      401,
      "timestamp_too_new",
      "The webhook timestamp is too far in the future",
    );
  }
  const candidates = parseSignatures(signatureHeader);
  if (candidates.length === 0) {
    return fail(
      400,
      "malformed_signature",
      "The webhook-signature header holds no signature",
    );
  }
  // Sign with the original timestamp text, as the sender did.
  const content = new TextEncoder().encode(`${id}.${timestampText}.${body}`);
  for (const candidate of candidates) {
    // Constant-time comparison: crypto.subtle.verify recomputes the MAC and compares it itself.
    if (await hmacVerify(key, candidate, content)) {
      return { ok: true, id, timestamp };
    }
  }
  return fail(401, "invalid_signature", "The webhook signature does not match");
}

/** Options for {@linkcode signWebhook}. */
export interface SignWebhookOptions {
  secret: string;
  id: string;
  /** Unix seconds. */
  timestamp: number;
  body: string;
}

/**
 * Computes the `webhook-signature` value (`v1,<base64>`) for a delivery: what a sender (the
 * emulator, tests) puts in the header.
 */
export async function signWebhook(
  options: SignWebhookOptions,
): Promise<string> {
  const key = await importSecret(options.secret);
  const content = new TextEncoder().encode(
    `${options.id}.${options.timestamp}.${options.body}`,
  );
  return `v1,${(await hmacSign(key, content)).toBase64()}`;
}

/** Decodes the secret into an HMAC-SHA256 key (`whsec_` → base64-decoded bytes, else UTF-8). */
async function importSecret(
  secret: string,
): Promise<CryptoKey> {
  let bytes: Uint8Array;
  if (secret.startsWith(SECRET_PREFIX)) {
    try {
      bytes = Uint8Array.fromBase64(secret.slice(SECRET_PREFIX.length));
    } catch {
      throw new WebhookSecretError(
        "The webhook secret after whsec_ is not valid base64",
      );
    }
  } else {
    bytes = new TextEncoder().encode(secret);
  }
  if (bytes.length === 0) {
    throw new WebhookSecretError("The webhook secret is empty");
  }
  return await hmacKey(bytes);
}

/**
 * Splits `v1,AAA= v1,BBB=` into decoded signatures; skips other versions and undecodable ones, and
 * stops after {@linkcode MAX_SIGNATURES} entries.
 */
function parseSignatures(header: string): Uint8Array<ArrayBuffer>[] {
  const out: Uint8Array<ArrayBuffer>[] = [];
  for (const entry of header.trim().split(/\s+/).slice(0, MAX_SIGNATURES)) {
    if (entry === "") continue;
    const comma = entry.indexOf(",");
    // Like the official SDKs, a bare value (no version prefix) is accepted as v1.
    if (comma !== -1 && entry.slice(0, comma) !== "v1") continue;
    const value = comma === -1 ? entry : entry.slice(comma + 1);
    if (value === "") continue;
    try {
      out.push(Uint8Array.fromBase64(value) as Uint8Array<ArrayBuffer>);
    } catch {
      // Not base64: cannot match; the remaining entries may.
    }
  }
  return out;
}

function fail(
  status: 400 | 401,
  code: WebhookFailureCode,
  message: string,
): WebhookVerification {
  return { ok: false, status, code, message };
}
