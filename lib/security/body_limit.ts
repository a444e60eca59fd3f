/**
 * Request body size limits: small JSON bodies, a larger allowance for SDP offers and multipart
 * forms. Oversized bodies get 413 JSON before any handler reads them.
 *
 * @module
 */
import type { MiddlewareHandler } from "npm:hono@4.13.19";
import { bodyLimit } from "npm:hono@4.13.19/body-limit";
import type { ErrorBody } from "../deps.ts";

/** Options for {@linkcode bodyLimits}. */
export interface BodyLimitsOptions {
  /**
   * Limit for every body that is not SDP or multipart, bytes.
   * @default {65536}
   */
  jsonBytes?: number;
  /**
   * Limit for `application/sdp` and `multipart/form-data` bodies, bytes.
   * @default {262144}
   */
  sdpBytes?: number;
}

/**
 * Applies Hono's `bodyLimit` with a size chosen by content type.
 *
 * @example
 * ```ts
 * app.use(bodyLimits({ jsonBytes: 64 * 1024, sdpBytes: 256 * 1024 }));
 * ```
 */
export function bodyLimits(options: BodyLimitsOptions = {}): MiddlewareHandler {
  const json = options.jsonBytes ?? 64 * 1024;
  const sdp = options.sdpBytes ?? 256 * 1024;
  const tooLarge = (max: number): MiddlewareHandler =>
    bodyLimit({
      maxSize: max,
      onError: (c) =>
        c.json<ErrorBody>({
          error: {
            code: "body_too_large",
            message: `The request body is larger than ${Math.round(max / 1024)} KB`,
          },
        }, 413),
    });
  const small = tooLarge(json);
  const large = tooLarge(sdp);
  return async function bodyLimitsMiddleware(c, next) {
    if (
      c.req.method === "GET" || c.req.method === "HEAD" ||
      c.req.method === "OPTIONS"
    ) {
      return await next();
    }
    const type = c.req.header("content-type")?.toLowerCase() ?? "";
    const big = type.startsWith("application/sdp") ||
      type.startsWith("multipart/form-data");
    // A declared length is checked without touching `req.body` (which would make Deno build a
    // stream for a body the route then reads whole); chunked bodies are counted as they arrive.
    const declared = c.req.header("content-length");
    if (declared !== undefined && c.req.header("transfer-encoding") === undefined) {
      const max = big ? sdp : json;
      if (/^\d+$/.test(declared.trim()) && Number(declared) <= max) return await next();
    }
    return await (big ? large : small)(c, next);
  };
}
