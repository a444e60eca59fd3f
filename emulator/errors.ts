/**
 * OpenAI-style errors for the emulator: the REST envelope
 * `{error:{message,type,param,code}}` and the Realtime `error` event payload.
 *
 * @module
 */

/** One OpenAI error body (REST envelope content and Realtime `error.error`). */
export interface OpenAIErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** An error that maps onto an OpenAI error envelope and an HTTP status. */
export class ApiError extends Error {
  /** HTTP status used when the error is answered over REST. */
  readonly status: number;
  /** OpenAI error `type`, e.g. `invalid_request_error`. */
  readonly type: string;
  /** OpenAI error `code`, e.g. `unknown_parameter`. */
  readonly code: string | null;
  /** Dotted parameter path, or null. */
  readonly param: string | null;

  /** Creates an error; `message` mimics OpenAI's wording. */
  constructor(
    status: number,
    code: string | null,
    message: string,
    param: string | null = null,
    type = "invalid_request_error",
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.param = param;
    this.type = type;
  }

  /** The error body as OpenAI serialises it. */
  toBody(): OpenAIErrorBody {
    return {
      message: this.message,
      type: this.type,
      param: this.param,
      code: this.code,
    };
  }
}

/** The body OpenAI sometimes returns for a 400 on `/v1/realtime/calls`: every field empty. */
export const EMPTY_400_BODY = {
  error: { message: "", type: "", code: "", param: "" },
} as const;

/** Builds a JSON response with the given status and extra headers. */
export function jsonResponse(
  body: unknown,
  status = 200,
  headers: HeadersInit = {},
): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json");
  return new Response(JSON.stringify(body), { status, headers: h });
}

/** Builds the REST error response for an {@linkcode ApiError}. */
export function errorResponse(
  err: ApiError,
  headers: HeadersInit = {},
): Response {
  return jsonResponse({ error: err.toBody() }, err.status, headers);
}

/** The 401 answered for a missing or wrong bearer token. */
export function invalidKeyError(key: string | null): ApiError {
  if (!key) {
    return new ApiError(
      401,
      null,
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    );
  }
  const shown = key.length > 8 ? `${key.slice(0, 3)}${"*".repeat(8)}${key.slice(-4)}` : "****";
  return new ApiError(
    401,
    "invalid_api_key",
    `Incorrect API key provided: ${shown}. You can find your API key at https://platform.openai.com/account/api-keys.`,
  );
}
