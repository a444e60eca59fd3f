/**
 * Small helpers the core routes share: JSON error responses in the `{error:{code,message}}` shape,
 * mapping of {@linkcode UpstreamError}, and reading a JSON body that may be absent or malformed.
 *
 * @module
 */
import type { ErrorBody } from "../app.ts";
import { UpstreamError } from "./upstream.ts";

/** A JSON error response; `status` is a 4xx/5xx chosen by the route. */
export function apiError(
  status: number,
  code: string,
  message: string,
  init: {
    upstreamStatus?: number | null;
    field?: string;
    headers?: Record<string, string>;
  } = {},
): Response {
  const body: ErrorBody = { error: { code, message } };
  if (init.upstreamStatus != null) {
    body.error.upstreamStatus = init.upstreamStatus;
  }
  if (init.field) body.error.field = init.field;
  return Response.json(body, { status, headers: init.headers });
}

/** Maps an upstream failure to its JSON response (429 and 503 keep `Retry-After`). */
export function upstreamErrorResponse(err: UpstreamError): Response {
  return apiError(err.status, err.code, err.message, {
    upstreamStatus: err.upstreamStatus,
    headers: err.retryAfter ? { "Retry-After": err.retryAfter } : undefined,
  });
}

/** Result of {@linkcode readJsonBody}: the parsed value or a ready 400 response. */
export type JsonBodyResult = { ok: true; value: unknown } | {
  ok: false;
  response: Response;
};

/** Reads the body as JSON whatever its content type (beacons send text/plain); empty → `{}`. */
export async function readJsonBody(req: Request): Promise<JsonBodyResult> {
  let text: string;
  try {
    text = await req.text();
  } catch {
    return {
      ok: false,
      response: apiError(400, "invalid_body", "Cannot read the request body"),
    };
  }
  if (text.trim() === "") return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return {
      ok: false,
      response: apiError(
        400,
        "invalid_json",
        "The request body is not valid JSON",
      ),
    };
  }
}

export { UpstreamError };
