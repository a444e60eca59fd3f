// @ts-check
/**
 * Creating a call at OpenAI (the page's SDP offer to `/v1/realtime/calls`) is retried on 429 and
 * 503, the answers that say the request was not processed, with full-jitter backoff and
 * `Retry-After` honoured up to a cap (`shared/backoff.js`, the server's timing too). Nothing else
 * is retried: a network error or another status may mean the call exists.
 *
 * @module
 */
import { backoffDelay, retryAfterMs } from "../shared/backoff.js";

/**
 * Whether a request creates a call at OpenAI with an SDP offer (safe to repeat on 429/503).
 * @param {RequestInfo | URL} input
 * @param {RequestInit} [init]
 */
function createsCall(input, init) {
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  return (init?.method ?? "GET").toUpperCase() === "POST" &&
    /\/v1\/realtime\/calls\/?$/.test(new URL(url, globalThis.location?.href).pathname) &&
    typeof init?.body === "string";
}

/**
 * A `fetch` that retries call creation on 429 and 503 (see the module doc); other requests pass
 * through unchanged. The last response is returned as is, so the caller's error stays clear.
 *
 * @param {typeof fetch} [baseFetch]
 * @param {{ attempts?: number, baseMs?: number, maxMs?: number, maxRetryAfterMs?: number,
 *   random?: () => number, onRetry?: (info: { attempt: number, status: number, delayMs: number }) => void }} [options]
 *   `baseMs` / `maxMs` default to 300 / 3000: a person is waiting for the call to open.
 * @returns {typeof fetch}
 */
export function retryingFetch(baseFetch = globalThis.fetch.bind(globalThis), options = {}) {
  const attempts = options.attempts ?? 3;
  const backoff = {
    baseMs: options.baseMs ?? 300,
    maxMs: options.maxMs ?? 3000,
    random: options.random,
  };
  return async (input, init) => {
    if (!createsCall(input, init)) return await baseFetch(input, init);
    for (let attempt = 0;; attempt++) {
      const res = await baseFetch(input, init);
      if (res.status !== 429 && res.status !== 503) return res;
      if (attempt + 1 >= attempts) return res;
      const asked = retryAfterMs(res.headers.get("retry-after"));
      if (asked !== null && asked > (options.maxRetryAfterMs ?? 5000)) return res;
      const delayMs = Math.max(asked ?? 0, backoffDelay(attempt, backoff));
      await res.body?.cancel();
      options.onRetry?.({ attempt: attempt + 1, status: res.status, delayMs });
      await new Promise((r) => setTimeout(r, delayMs));
      /** @type {{ signal?: AbortSignal | null }} */ (init ?? {}).signal?.throwIfAborted();
    }
  };
}
