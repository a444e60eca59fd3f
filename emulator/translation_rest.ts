/**
 * REST endpoints of the Realtime Translation API: `POST /v1/realtime/translations/client_secrets`
 * (standard key; strict validation as for Realtime client secrets) and
 * `POST /v1/realtime/translations/calls` (raw SDP; an `ek_…` translation secret or the standard
 * key; CORS as for `/v1/realtime/calls`).
 *
 * @module
 */
import type { RealtimeTranslationClientSecretCreateResponse } from "../lib/openai_types.ts";
import { bearer, checkKey } from "./auth.ts";
import {
  ApiError,
  EMPTY_400_BODY,
  errorResponse,
  invalidKeyError,
  jsonResponse,
} from "./errors.ts";
import * as ids from "./ids.ts";
import {
  answerCallRequest,
  applyFaults,
  beginCallRequest,
  expiresAfterSpec,
  readJson,
} from "./rest.ts";
import type { EmulatorState } from "./state.ts";
import { startTranslationCall } from "./translation_calls.ts";
import {
  buildTranslationSession,
  defaultTranslationSession,
  TRANSLATION_MODELS,
  type TranslationSessionObject,
} from "./translation_schema.ts";
import { check, invalidValue, s } from "./validate.ts";
import { TRANSLATION_MODEL } from "../lib/translation_languages.ts";

const clientSecretBody = s.object({
  expires_after: expiresAfterSpec,
  session: s.any(),
}, ["session"]);

/** `POST /v1/realtime/translations/client_secrets`. */
export async function createTranslationClientSecret(
  req: Request,
  state: EmulatorState,
): Promise<Response> {
  const fault = await applyFaults(state, "translation_client_secrets");
  if (fault) return fault;
  const key = checkKey(state, bearer(req.headers));
  if (key.kind !== "standard") return errorResponse(invalidKeyError(bearer(req.headers)));
  try {
    // deno-lint-ignore no-explicit-any
    const body: any = await readJson(req, true);
    check(clientSecretBody, body, "");
    const session = buildTranslationSession(body.session, "session.", state.translationRules);
    const value = ids.ephemeralKey();
    const expiresAt = Math.floor(Date.now() / 1000) + (body.expires_after?.seconds ?? 600);
    // OpenAI's example response shows the secret's expiry as the session's `expires_at` too.
    const shown: TranslationSessionObject = {
      ...session,
      id: ids.sessionId(),
      expires_at: expiresAt,
    };
    state.secrets.set(value, { value, expiresAt, session: shown });
    const out: RealtimeTranslationClientSecretCreateResponse = {
      value,
      expires_at: expiresAt,
      session: shown,
    };
    return jsonResponse(out);
  } catch (e) {
    if (e instanceof ApiError) return errorResponse(e);
    throw e;
  }
}

/** `POST /v1/realtime/translations/calls`. */
export async function createTranslationCall(
  req: Request,
  state: EmulatorState,
): Promise<Response> {
  const begun = await beginCallRequest(req, state, "translation_calls");
  if (begun instanceof Response) return begun;
  const { cors, key } = begun;
  const model = new URL(req.url).searchParams.get("model");
  if (model !== null) {
    // One public client reports a 400 for `?model=` here; clients that work send none.
    if (state.options.translationCallModelQuery === "reject") {
      return errorResponse(
        new ApiError(400, "unknown_parameter", "Unknown parameter: 'model'.", "model"),
        cors,
      );
    }
    if (!TRANSLATION_MODELS.includes(model)) {
      return errorResponse(invalidValue("model", model, TRANSLATION_MODELS), cors);
    }
  }
  const ctype = (req.headers.get("content-type") ?? "").toLowerCase();
  if (!ctype.startsWith("application/sdp")) {
    return errorResponse(
      new ApiError(
        400,
        null,
        `Unsupported content type: '${ctype || "none"}'. Use 'application/sdp'.`,
      ),
      cors,
    );
  }
  let config: TranslationSessionObject;
  if (key.kind === "ephemeral") {
    // A Realtime secret on the translation endpoint: a "mismatched session/key type".
    if (key.secret.session.type !== "translation") {
      return jsonResponse(EMPTY_400_BODY, 400, cors);
    }
    config = structuredClone(key.secret.session);
  } else {
    config = defaultTranslationSession(model ?? TRANSLATION_MODEL, state.translationRules);
  }
  return await answerCallRequest(
    state,
    await req.text(),
    cors,
    "/v1/realtime/translations/calls",
    (offer) => startTranslationCall(state, offer, config),
  );
}
