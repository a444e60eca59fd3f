/**
 * Routing of the Realtime Translation API's paths under `/v1/realtime/translations`.
 *
 * @module
 */
import { callAction, corsHeaders } from "./rest.ts";
import type { EmulatorState } from "./state.ts";
import { createTranslationCall, createTranslationClientSecret } from "./translation_rest.ts";
import { handleTranslationSocket } from "./translation_socket.ts";

function preflight(req: Request, state: EmulatorState): Response {
  return new Response(null, { status: 204, headers: corsHeaders(req, state, true) });
}

/** Answers a Translation API request, or returns null for any other path or method. */
export async function routeTranslations(
  req: Request,
  state: EmulatorState,
  path: string,
): Promise<Response | null> {
  if (!path.startsWith("/v1/realtime/translations")) return null;
  const m = req.method;
  if (path === "/v1/realtime/translations" && m === "GET") {
    return await handleTranslationSocket(req, state);
  }
  if (path === "/v1/realtime/translations/client_secrets" && m === "POST") {
    return await createTranslationClientSecret(req, state);
  }
  if (path === "/v1/realtime/translations/calls") {
    if (m === "OPTIONS") return preflight(req, state);
    if (m === "POST") return await createTranslationCall(req, state);
  }
  const hangup = path.match(/^\/v1\/realtime\/translations\/calls\/([^/]+)\/hangup$/);
  if (hangup) {
    if (m === "OPTIONS") return preflight(req, state);
    if (m === "POST") return await callAction(req, state, hangup[1], "hangup", "translation");
  }
  return null;
}
