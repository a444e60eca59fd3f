/**
 * The page's JSON requests to its own server, and the error every failed step of connecting
 * raises ({@linkcode ConnectionError}: status, our error code, `Retry-After`), so the page can say
 * what to do about it.
 *
 * @module
 */

/** A failed step, with the server's (or OpenAI's) status and message. */
export class ConnectionError extends Error {
  /**
   * @param {string} message
   * @param {{ status?: number, code?: string, retryAfter?: number|null }} [info]
   */
  constructor(message, info = {}) {
    super(message);
    this.name = "ConnectionError";
    /** HTTP status (0 = no response). */
    this.status = info.status ?? 0;
    this.code = info.code ?? "";
    /** Seconds to wait before retrying, when the server said so. */
    this.retryAfter = info.retryAfter ?? null;
  }
}

/**
 * Turns a non-2xx response into a {@linkcode ConnectionError}: reads the body as text and uses
 * `error.message` when it is JSON (OpenAI's all-empty 400 falls back to the status).
 * @param {Response} res
 * @param {string} what
 * @returns {Promise<ConnectionError>}
 */
export async function responseError(res, what) {
  const text = await res.text().catch(() => "");
  let message = "";
  let code = "";
  try {
    const body = JSON.parse(text);
    message = typeof body?.error?.message === "string" ? body.error.message : "";
    code = typeof body?.error?.code === "string" ? body.error.code : "";
  } catch {
    message = text.trim().slice(0, 300);
  }
  const retry = Number(res.headers.get("retry-after"));
  return new ConnectionError(
    `${what} failed (${res.status}): ${message || "no reason given"}`,
    {
      status: res.status,
      code,
      retryAfter: Number.isFinite(retry) && retry > 0 ? retry : null,
    },
  );
}

/**
 * POSTs JSON to our server; throws {@linkcode ConnectionError} on failure.
 * @param {string} url
 * @param {unknown} body
 * @param {{ signal?: AbortSignal, keepalive?: boolean, fetch?: typeof fetch }} [options]
 * @returns {Promise<any>}
 */
export async function postJson(url, body, options = {}) {
  const doFetch = options.fetch ?? globalThis.fetch;
  let res;
  try {
    res = await doFetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: options.signal,
      keepalive: options.keepalive,
      credentials: "same-origin",
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ConnectionError(`Cannot reach the server (${url})`, {
      code: "network",
    });
  }
  if (!res.ok) throw await responseError(res, `POST ${url}`);
  return await res.json().catch(() => ({}));
}
