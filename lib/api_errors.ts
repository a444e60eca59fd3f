/**
 * Small helpers the core routes share: JSON error responses in the `{error:{code,message}}` shape,
 * the one way a zod failure becomes a 400, mapping of {@linkcode UpstreamError}, and reading a
 * JSON body that may be absent or malformed.
 *
 * @module
 */
import type { z } from "npm:zod@4.6.7";
import type { ErrorBody } from "./deps.ts";
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

/** The JSON 404 for a path no route serves. */
export function routeNotFound(): Response {
  return apiError(404, "not_found", "No such route");
}

/** Which field a zod failure is about, and the sentence that says what is wrong with it. */
export interface InputIssue {
  /** Dotted path of the first issue (an unknown key names itself); `where` when it has none. */
  field: string;
  message: string;
}

/**
 * Describes the first issue of a zod failure: `Invalid value for "<field>": <zod's message>`.
 *
 * @example
 * ```ts
 * const parsed = Body.safeParse(value);
 * if (!parsed.success) throw new Error(describeIssue(parsed.error).message);
 * ```
 */
export function describeIssue(error: z.ZodError, where = "body"): InputIssue {
  const issue = error.issues[0];
  const keys = issue.code === "unrecognized_keys" ? issue.keys : [];
  const field = [...issue.path, ...keys.slice(0, 1)].map(String).join(".") || where;
  return { field, message: `Invalid value for "${field}": ${issue.message}` };
}

/**
 * The 400 response for a zod failure: `{error: {code, message, field}}` from
 * {@linkcode describeIssue}. `code` defaults to `invalid_request`.
 */
export function invalidInput(
  error: z.ZodError,
  options: { where?: string; code?: string } = {},
): Response {
  const { field, message } = describeIssue(error, options.where);
  return apiError(400, options.code ?? "invalid_request", message, { field });
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
