// @ts-check
/**
 * The page's one client for its own server: JSON requests, and the one error that every failed
 * request or connection step raises ({@linkcode ConnectionError}: HTTP status, the server's error
 * code, `Retry-After`), so `messages.js` can say what to do about it.
 *
 * Every function takes an optional `fetch` (tests pass one bound to a loopback server).
 *
 * @module
 */
import { retryAfterMs } from "../shared/backoff.js";

/** A failed request or connection step, with the server's (or OpenAI's) status and message. */
export class ConnectionError extends Error {
  /**
   * @param {string} message
   * @param {{ status?: number, code?: string, retryAfter?: number|null, field?: string }} [info]
   */
  constructor(message, info = {}) {
    super(message);
    this.name = "ConnectionError";
    /** HTTP status (0 = no response). */
    this.status = info.status ?? 0;
    /** Machine-readable code from the server (`network` when it could not be reached). */
    this.code = info.code ?? "";
    /** Seconds to wait before retrying, when the server said so (`Retry-After`). */
    this.retryAfter = info.retryAfter ?? null;
    /** The request field the server refused (`languages.0`), or "". */
    this.field = info.field ?? "";
  }
}

/**
 * Sends one request to our server (cookies included); an unreachable server becomes a
 * {@linkcode ConnectionError} with code `network` and the given message, an abort stays an abort.
 *
 * @param {string} url
 * @param {RequestInit} init
 * @param {{ fetch?: typeof fetch, unreachable: string }} options
 * @returns {Promise<Response>}
 */
async function send(url, init, options) {
  const doFetch = options.fetch ?? globalThis.fetch;
  try {
    return await doFetch(url, { ...init, credentials: "same-origin" });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ConnectionError(options.unreachable, { code: "network" });
  }
}

/**
 * The body of a response: `{ json }` when it parses, else `{ text }`.
 * @param {Response} res
 * @returns {Promise<{ json?: any, text: string }>}
 */
async function readBody(res) {
  const text = await res.text().catch(() => "");
  try {
    return { json: JSON.parse(text), text };
  } catch {
    return { text };
  }
}

/**
 * `error.message` or `error.code` of our JSON error body, or "".
 * @param {any} json
 * @param {"message" | "code" | "field"} field
 */
function errorField(json, field) {
  const value = json?.error?.[field];
  return typeof value === "string" ? value : "";
}

/**
 * `Retry-After` in whole seconds (at least 1), or null when absent, zero or unreadable.
 * @param {Response} res
 */
function retryAfterSeconds(res) {
  const ms = retryAfterMs(res.headers.get("retry-after"));
  return ms ? Math.ceil(ms / 1000) : null;
}

/**
 * Turns a non-2xx response into a {@linkcode ConnectionError} named after the step that failed:
 * `error.message` when the body is JSON (OpenAI's all-empty 400 falls back to "no reason given"),
 * else the start of the body's text.
 *
 * @param {Response} res
 * @param {string} what the step, e.g. `Creating the call at OpenAI`
 * @returns {Promise<ConnectionError>}
 */
export async function responseError(res, what) {
  const body = await readBody(res);
  const message = "json" in body
    ? errorField(body.json, "message")
    : body.text.trim().slice(0, 300);
  return new ConnectionError(`${what} failed (${res.status}): ${message || "no reason given"}`, {
    status: res.status,
    code: errorField(body.json, "code"),
    retryAfter: retryAfterSeconds(res),
    field: errorField(body.json, "field"),
  });
}

/**
 * Fetches JSON from our server (a POST when there is a body). Non-2xx answers throw a
 * {@linkcode ConnectionError} whose message is the server's own; an empty or non-JSON 2xx body
 * resolves to null.
 *
 * @param {string} url
 * @param {{ method?: string, body?: unknown, signal?: AbortSignal, fetch?: typeof fetch }} [options]
 * @returns {Promise<any>}
 */
export async function fetchJson(url, options = {}) {
  const hasBody = options.body !== undefined;
  const res = await send(url, {
    method: options.method ?? (hasBody ? "POST" : "GET"),
    headers: hasBody ? { "content-type": "application/json" } : {},
    body: hasBody ? JSON.stringify(options.body) : undefined,
    signal: options.signal,
  }, { fetch: options.fetch, unreachable: "Network request failed" });
  const body = await readBody(res);
  const data = body.json ?? null;
  if (!res.ok) {
    throw new ConnectionError(errorField(data, "message") || `HTTP ${res.status}`, {
      status: res.status,
      code: errorField(data, "code"),
      retryAfter: retryAfterSeconds(res),
      field: errorField(data, "field"),
    });
  }
  return data;
}

/**
 * POSTs JSON to one step of connecting (`/api/session`, `/api/calls…`); a failure throws a
 * {@linkcode ConnectionError} that names the request.
 *
 * @param {string} url
 * @param {unknown} body
 * @param {{ signal?: AbortSignal, keepalive?: boolean, fetch?: typeof fetch }} [options]
 * @returns {Promise<any>}
 */
export async function postJson(url, body, options = {}) {
  const res = await send(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: options.signal,
    keepalive: options.keepalive,
  }, { fetch: options.fetch, unreachable: `Cannot reach the server (${url})` });
  if (!res.ok) throw await responseError(res, `POST ${url}`);
  return await res.json().catch(() => ({}));
}

/**
 * Asks our server for a key to put the same stored session on a new call.
 *
 * @param {{ sessionId: string, ticket: string }} session
 * @param {{ fetch?: typeof fetch, signal?: AbortSignal }} [options]
 * @returns {Promise<import("./connection.js").SessionInfo>}
 */
export async function continueSession(session, options = {}) {
  const res = await send(`/api/session/${encodeURIComponent(session.sessionId)}/continue`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ticket: session.ticket }),
    signal: options.signal,
  }, { fetch: options.fetch, unreachable: "Cannot reach the server to reconnect" });
  if (!res.ok) throw await responseError(res, "Reconnecting");
  return await res.json();
}
