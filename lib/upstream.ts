/**
 * The OpenAI Realtime REST client the server uses with its standard key: client secrets, WebRTC
 * calls (multipart SDP relay), hang-up. Upstream failures become {@linkcode UpstreamError}s that
 * routes turn into clear JSON errors (never a bare 500, never a key in a message).
 *
 * @module
 */
import type {
  CallAcceptParams,
  ClientSecretCreateResponse,
  RealtimeTranscriptionSessionCreateRequest,
} from "./openai_types.ts";
import { CALL_ID_PATTERN, callIdFromLocation } from "../shared/call_id.js";

// The page checks call ids with the same rule, so both sides read it from `shared/`.
export { CALL_ID_PATTERN, callIdFromLocation };

/** A failed upstream request, mapped to the status our API answers with. */
export class UpstreamError extends Error {
  /** Status our route answers with (429, 502, 503, 504). */
  status: 429 | 502 | 503 | 504;
  /** Our error code, e.g. `server_key_rejected`. */
  code: string;
  /** OpenAI's HTTP status, when there was a response. */
  upstreamStatus: number | null;
  /** `Retry-After` to pass on (seconds as text), for 429. */
  retryAfter: string | null;
  /** OpenAI's `x-request-id` of the failed answer (what OpenAI support asks for), when sent. */
  requestId: string | null = null;
  /** OpenAI's `error.type` (e.g. `invalid_request_error`), when the answer was JSON. */
  upstreamType: string | null = null;
  /** OpenAI's `error.param` (e.g. `session.audio.input.turn_detection`), when it named one. */
  param: string | null = null;
  /** OpenAI's own message (redacted), without our prefix; null when there was no answer. */
  upstreamMessage: string | null = null;
  constructor(
    status: UpstreamError["status"],
    code: string,
    message: string,
    upstreamStatus: number | null = null,
    retryAfter: string | null = null,
  ) {
    super(message);
    this.name = "UpstreamError";
    this.status = status;
    this.code = code;
    this.upstreamStatus = upstreamStatus;
    this.retryAfter = retryAfter;
  }
}

/** A structured log line (the app's `Logger`); it never receives a key. */
export type UpstreamLog = (
  level: "warn" | "error",
  message: string,
  fields: Record<string, unknown>,
) => void;

/** Options for {@linkcode createUpstream}. */
export interface UpstreamOptions {
  /** `config.openaiBaseUrl`, e.g. `https://api.openai.com` (no trailing slash). */
  baseUrl: string;
  /** The standard API key; null makes every call fail with `missing_api_key`. */
  apiKey: string | null;
  fetch?: typeof fetch;
  /** Per-request timeout; default 15 s. */
  timeoutMs?: number;
  /** Logs each failed answer with OpenAI's request id. */
  log?: UpstreamLog;
}

/** A minted ephemeral key. */
export interface ClientSecret {
  value: string;
  /** Unix seconds. */
  expiresAt: number;
  session: ClientSecretCreateResponse["session"];
}

/** The REST operations the app needs. */
export interface UpstreamClient {
  /** `POST /v1/realtime/client_secrets` with a transcription session. */
  createClientSecret(
    session: RealtimeTranscriptionSessionCreateRequest,
    options: { ttlSeconds: number },
  ): Promise<ClientSecret>;
  /** `POST /v1/realtime/calls` as multipart (`sdp` + `session`): returns the answer and call id. */
  createCall(
    options: {
      sdp: string;
      session: RealtimeTranscriptionSessionCreateRequest;
    },
  ): Promise<{ sdp: string; callId: string }>;
  /** `POST /v1/realtime/calls/{id}/hangup`; false when the call had already ended (404). */
  hangup(callId: string): Promise<boolean>;
  /** `POST /v1/realtime/calls/{id}/accept` with a realtime session (SIP calls). */
  acceptCall(callId: string, session: CallAcceptParams): Promise<void>;
  /** `POST /v1/realtime/calls/{id}/reject` with a SIP status code (486 busy, 603 decline). */
  rejectCall(callId: string, statusCode: number): Promise<void>;
}

/** Removes anything that looks like an API key or ephemeral key from a text. */
export function redactSecrets(text: string): string {
  return text.replace(/\b(sk|ek|rk)[-_][A-Za-z0-9_*.-]{4,}/g, "[redacted]");
}

/** What an OpenAI error body says (all redacted). */
interface UpstreamBody {
  message: string;
  type: string | null;
  param: string | null;
}

/** Reads an OpenAI error body: `error.message` (+ `type`, `param`) when JSON, else the raw text. */
async function upstreamBody(res: Response): Promise<UpstreamBody> {
  const text = await res.text().catch(() => "");
  let message = text.trim().slice(0, 500);
  let type: string | null = null;
  let param: string | null = null;
  try {
    const body = JSON.parse(text);
    if (body && typeof body.error?.message === "string") {
      message = body.error.message;
    }
    if (typeof body?.error?.type === "string") type = body.error.type.slice(0, 100);
    if (typeof body?.error?.param === "string") {
      param = redactSecrets(body.error.param.slice(0, 200));
    }
  } catch {
    // not JSON: keep the text
  }
  return { message: redactSecrets(message) || "no reason given", type, param };
}

/** The `x-request-id` of an OpenAI answer, if it looks like one (it goes into logs). */
function requestIdOf(res: Response): string | null {
  const id = res.headers.get("x-request-id");
  return id && /^[A-Za-z0-9_-]{1,128}$/.test(id) ? id : null;
}

/** Adds the answer's request id to an error and logs both (the message is already redacted). */
function logged(res: Response, err: UpstreamError, log?: UpstreamLog): UpstreamError {
  err.requestId = requestIdOf(res);
  log?.("warn", "OpenAI answered an error", {
    upstreamStatus: res.status,
    code: err.code,
    requestId: err.requestId,
    param: err.param,
    message: err.message,
  });
  return err;
}

/** The {@linkcode UpstreamError} for a failed OpenAI answer (logged with its request id). */
export function upstreamErrorFor(
  res: Response,
  what: string,
  log?: UpstreamLog,
): Promise<UpstreamError> {
  return toError(res, what, log);
}

async function toError(res: Response, what: string, log?: UpstreamLog): Promise<UpstreamError> {
  return logged(res, await errorFor(res, what), log);
}

async function errorFor(res: Response, what: string): Promise<UpstreamError> {
  const body = await upstreamBody(res);
  const err = errorOf(res, what, body.message);
  err.upstreamType = body.type;
  err.param = body.param;
  err.upstreamMessage = body.message;
  return err;
}

function errorOf(res: Response, what: string, message: string): UpstreamError {
  const s = res.status;
  if (s === 429) {
    return new UpstreamError(
      429,
      "upstream_rate_limited",
      `OpenAI is rate limiting ${what}: ${message}`,
      s,
      res.headers.get("retry-after") ?? "5",
    );
  }
  if (s === 401 || s === 403) {
    return new UpstreamError(
      502,
      "server_key_rejected",
      `The server's OpenAI API key was rejected (${s}): ${message}`,
      s,
    );
  }
  if (s === 503) {
    // Overloaded or down for a while: say so, and when to try again.
    return new UpstreamError(
      503,
      "upstream_unavailable",
      `OpenAI is unavailable for ${what} (${s}): ${message}`,
      s,
      res.headers.get("retry-after") ?? "5",
    );
  }
  if (s >= 500) {
    return new UpstreamError(
      502,
      "upstream_error",
      `OpenAI failed ${what} (${s}): ${message}`,
      s,
    );
  }
  return new UpstreamError(
    502,
    "upstream_rejected",
    `OpenAI rejected ${what} (${s}): ${message}`,
    s,
  );
}

/** Builds the REST client. */
export function createUpstream(options: UpstreamOptions): UpstreamClient {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 15_000;

  async function request(
    path: string,
    init: RequestInit,
    what: string,
  ): Promise<Response> {
    if (!options.apiKey) {
      throw new UpstreamError(
        503,
        "missing_api_key",
        "The server has no OPENAI_API_KEY set",
      );
    }
    const headers = new Headers(init.headers);
    headers.set("Authorization", `Bearer ${options.apiKey}`);
    // A timer we clear ourselves (not AbortSignal.timeout) so no timer outlives the request.
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new DOMException("Upstream timed out", "TimeoutError")),
      timeoutMs,
    );
    try {
      return await doFetch(`${options.baseUrl}${path}`, {
        ...init,
        headers,
        redirect: "manual",
        signal: controller.signal,
      });
    } catch (err) {
      const timedOut = err instanceof DOMException &&
        err.name === "TimeoutError";
      throw new UpstreamError(
        timedOut ? 504 : 503,
        timedOut ? "upstream_timeout" : "upstream_unreachable",
        timedOut
          ? `OpenAI did not answer ${what} within ${timeoutMs} ms`
          : `Cannot reach OpenAI for ${what}: ${
            redactSecrets(String((err as Error)?.message ?? err))
          }`,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  function invalidAnswer(res: Response, message: string): UpstreamError {
    return logged(
      res,
      new UpstreamError(502, "upstream_invalid_response", message, res.status),
      options.log,
    );
  }

  /** SIP call control (`/accept`, `/reject`): JSON body, empty 200 answer. */
  async function callControl(
    callId: string,
    action: string,
    body: unknown,
    what: string,
  ) {
    if (!CALL_ID_PATTERN.test(callId)) {
      throw new TypeError(`Cannot ${action} "${callId}": not a call id`);
    }
    const res = await request(`/v1/realtime/calls/${callId}/${action}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }, what);
    if (!res.ok) throw await toError(res, what, options.log);
    await res.body?.cancel();
  }

  return {
    async createClientSecret(session, { ttlSeconds }) {
      const what = "minting an ephemeral key";
      const res = await request("/v1/realtime/client_secrets", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          expires_after: { anchor: "created_at", seconds: ttlSeconds },
          session,
        }),
      }, what);
      if (!res.ok) throw await toError(res, what, options.log);
      const body = await res.json().catch(() => null) as
        | ClientSecretCreateResponse
        | null;
      if (
        !body || typeof body.value !== "string" ||
        typeof body.expires_at !== "number"
      ) {
        throw invalidAnswer(res, `OpenAI sent an unreadable answer ${what}`);
      }
      return {
        value: body.value,
        expiresAt: body.expires_at,
        session: body.session,
      };
    },

    async createCall({ sdp, session }) {
      const what = "creating the call";
      const form = new FormData();
      form.set("sdp", new Blob([sdp], { type: "application/sdp" }));
      form.set(
        "session",
        new Blob([JSON.stringify(session)], { type: "application/json" }),
      );
      const res = await request("/v1/realtime/calls", {
        method: "POST",
        headers: { Accept: "application/sdp" },
        body: form,
      }, what);
      if (res.status !== 201 && res.status !== 200) {
        if (res.status >= 300 && res.status < 400) {
          await res.body?.cancel();
          throw logged(
            res,
            new UpstreamError(
              502,
              "upstream_rejected",
              `OpenAI redirected ${what} (${res.status})`,
              res.status,
            ),
            options.log,
          );
        }
        throw await toError(res, what, options.log);
      }
      const answer = await res.text();
      const callId = callIdFromLocation(res.headers.get("location"));
      if (!callId) {
        throw invalidAnswer(res, `OpenAI sent no call id ${what}`);
      }
      return { sdp: answer, callId };
    },

    async hangup(callId) {
      if (!CALL_ID_PATTERN.test(callId)) {
        throw new TypeError(`Cannot hang up "${callId}": not a call id`);
      }
      const what = "hanging up the call";
      const res = await request(`/v1/realtime/calls/${callId}/hangup`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: "{}",
      }, what);
      if (res.status === 404) {
        await res.body?.cancel();
        return false;
      }
      if (!res.ok) throw await toError(res, what, options.log);
      await res.body?.cancel();
      return true;
    },

    async acceptCall(callId, session) {
      await callControl(callId, "accept", session, "accepting the phone call");
    },

    async rejectCall(callId, statusCode) {
      await callControl(
        callId,
        "reject",
        { status_code: statusCode },
        "rejecting the phone call",
      );
    },
  };
}
