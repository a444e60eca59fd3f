/**
 * Standard Webhooks signing and delivery for `realtime.call.incoming`, written
 * independently of the app's verifier (protocol reference §7.2).
 *
 * @module
 */
import * as ids from "./ids.ts";

/** Key bytes of a secret: base64 after `whsec_`, else the UTF-8 bytes. */
export function secretKeyBytes(secret: string): Uint8Array {
  if (secret.startsWith("whsec_")) {
    return Uint8Array.fromBase64(secret.slice(6));
  }
  return new TextEncoder().encode(secret);
}

/** A new secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${crypto.getRandomValues(new Uint8Array(32)).toBase64()}`;
}

/**
 * Signs `id.timestamp.body` with HMAC-SHA256 and returns the header value `v1,<base64>`.
 * `timestamp` is the decimal unix-seconds text sent in `webhook-timestamp`.
 */
export async function signWebhook(
  secret: string,
  id: string,
  timestamp: string,
  body: string,
): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    secretKeyBytes(secret) as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign(
    "HMAC",
    key,
    new TextEncoder().encode(`${id}.${timestamp}.${body}`),
  );
  return `v1,${new Uint8Array(mac).toBase64()}`;
}

/** The headers of one signed delivery. */
export async function webhookHeaders(
  secret: string,
  body: string,
  id = ids.webhookId(),
  now = Date.now(),
): Promise<Headers> {
  const timestamp = String(Math.floor(now / 1000));
  return new Headers({
    "user-agent": "OpenAI/1.0 (+https://platform.openai.com/docs/webhooks)",
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": timestamp,
    "webhook-signature": await signWebhook(secret, id, timestamp, body),
  });
}

/** Waits `ms`, or less if `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** One delivery attempt's outcome. */
export interface DeliveryAttempt {
  attempt: number;
  status: number | null;
  error?: string;
}

/** Options of {@linkcode deliverWebhook}. */
export interface DeliveryOptions {
  /** Waits before retries 2, 3, …; its length bounds the retries. */
  retryDelaysMs: number[];
  /**
   * Stops further attempts (pending retries). A request already in flight is NOT
   * cancelled by it: the receiver may end the call (e.g. `/reject`) while it handles
   * the delivery, and that attempt's real status is still recorded.
   */
  signal?: AbortSignal;
  /** Cancels an in-flight request (emulator shutdown). */
  requestSignal?: AbortSignal;
  onAttempt?: (a: DeliveryAttempt) => void;
}

/**
 * POSTs a signed event; retries with backoff on non-2xx (3xx included, redirects
 * not followed) and network errors. The same `webhook-id` is kept across retries;
 * each attempt is re-signed with a fresh timestamp.
 */
export async function deliverWebhook(
  url: string,
  secret: string,
  event: unknown,
  options: DeliveryOptions,
): Promise<boolean> {
  const body = JSON.stringify(event);
  const id = ids.webhookId();
  for (
    let attempt = 1;
    attempt <= options.retryDelaysMs.length + 1;
    attempt++
  ) {
    if (options.signal?.aborted) return false;
    if (attempt > 1) {
      await sleep(options.retryDelaysMs[attempt - 2], options.signal);
      if (options.signal?.aborted) return false;
    }
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: await webhookHeaders(secret, body, id),
        body,
        redirect: "manual",
        signal: options.requestSignal,
      });
      await res.body?.cancel();
      options.onAttempt?.({ attempt, status: res.status });
      if (res.status >= 200 && res.status < 300) return true;
    } catch (e) {
      options.onAttempt?.({
        attempt,
        status: null,
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }
  return false;
}
