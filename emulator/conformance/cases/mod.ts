/**
 * Every conformance case, in run order.
 *
 * @module
 */
import type { Case } from "../types.ts";
import { AUDIO_CASES } from "./audio.ts";
import { CALL_CASES } from "./calls.ts";
import { REST_CASES } from "./rest.ts";
import { SOCKET_CASES } from "./socket.ts";
import { TRANSLATION_CALL_CASES } from "./translation_calls.ts";
import { TRANSLATION_SECRET_CASES } from "./translation_secrets.ts";
import { TRANSLATION_SOCKET_CASES } from "./translation_socket.ts";
import { WEBHOOK_CASES } from "./webhooks.ts";
import { WEBRTC_CASES } from "./webrtc.ts";

/** The cases of `deno task conformance`. */
export const CASES: readonly Case[] = [
  ...REST_CASES,
  ...CALL_CASES,
  ...SOCKET_CASES,
  ...AUDIO_CASES,
  ...WEBRTC_CASES,
  ...WEBHOOK_CASES,
  ...TRANSLATION_SECRET_CASES,
  ...TRANSLATION_CALL_CASES,
  ...TRANSLATION_SOCKET_CASES,
];
