/**
 * Phone calls over OpenAI's SIP trunk: reading the `realtime.call.incoming` webhook, the caller
 * number (E.164, masked before it is stored or shown), the allow-list, the accept/reject decision
 * and the realtime session the server sends with `/accept`.
 *
 * @module
 */
import { z } from "npm:zod@4.6.7";
import type { AudioTranscription, CallAcceptParams } from "./openai_types.ts";
import type { Config } from "./config.ts";
import { findModel } from "./models.ts";
import { resolveSessionOptions, type SessionSettings } from "./session_config.ts";
import { CALL_ID_PATTERN, type UpstreamClient } from "./upstream.ts";
import type { Store } from "./store/types.ts";
import type { Logger } from "./deps.ts";
import { spendRefusal } from "./security/limits.ts";
import { claimOnce, releaseClaim } from "./store/claims.ts";

/** The event type OpenAI sends for a ringing SIP call. */
export const CALL_INCOMING_EVENT = "realtime.call.incoming";

/** Realtime model that hosts a phone call; it never answers (see {@linkcode sipAcceptSession}). */
export const SIP_REALTIME_MODEL = "gpt-realtime-mini";

/** Transcription model used for calls when the configured default cannot run with server VAD. */
export const SIP_FALLBACK_TRANSCRIPTION_MODEL = "gpt-transcribe";

/** SIP 486 Busy Here: a limit is reached. */
export const SIP_BUSY = 486;
/** SIP 603 Decline: SIP is off or the caller is not allowed. */
export const SIP_DECLINE = 603;

/** The envelope every OpenAI webhook shares; `data` is checked per event type. */
export const WebhookEventSchema = z.object({
  object: z.literal("event").optional(),
  id: z.string().min(1).max(200),
  type: z.string().min(1).max(200),
  created_at: z.number().int().nonnegative().optional(),
  data: z.unknown().optional(),
});

/** `data` of a `realtime.call.incoming` event. */
export const CallIncomingDataSchema = z.object({
  call_id: z.string().regex(
    CALL_ID_PATTERN,
    "call_id is not a realtime call id",
  ),
  sip_headers: z.array(
    z.object({ name: z.string().max(200), value: z.string().max(2000) }),
  ).max(200).default([]),
});

/** A parsed `realtime.call.incoming` payload. */
export type CallIncomingData = z.infer<typeof CallIncomingDataSchema>;

/**
 * Normalises a phone number to E.164 (`+` and 2–15 digits, no leading zero), dropping visual
 * separators (spaces, dashes, dots, parentheses). Returns null when it is not one.
 *
 * @example
 * ```ts
 * normalizeE164("+1 (555) 555-0100"); // "+15555550100"
 * ```
 */
export function normalizeE164(text: string): string | null {
  const compact = text.trim().replace(/[\s\-.()]/g, "");
  return /^\+[1-9]\d{1,14}$/.test(compact) ? compact : null;
}

/**
 * Reads the caller's number from the INVITE's `From` header (`sip:+1555…@host`, `tel:+1555…`,
 * `"Name" <sip:+1555…@host>;tag=…`; compact form `f`). Returns null for anonymous or non-E.164
 * callers. Caller ID is set by the calling network and can be spoofed.
 */
export function callerFromSipHeaders(
  headers: ReadonlyArray<{ name: string; value: string }>,
): string | null {
  const from = headers.find((h) => ["from", "f"].includes(h.name.trim().toLowerCase()));
  if (!from) return null;
  const value = from.value;
  const bracketed = value.match(/<([^>]*)>/);
  const uri = (bracketed ? bracketed[1] : value.split(";")[0]).trim();
  const match = uri.match(/^(?:sips?|tel):([^@;>]+)/i);
  if (!match) return null;
  let user: string;
  try {
    user = decodeURIComponent(match[1]);
  } catch {
    return null;
  }
  return normalizeE164(user);
}

/**
 * Masks a caller number for storage and display: keeps `+`, the first digit and the last four
 * (`+15555550100` → `+1******0100`); short numbers keep only their last two digits. Null (unknown
 * or anonymous caller) becomes `"anonymous"`.
 */
export function maskCaller(e164: string | null): string {
  if (!e164) return "anonymous";
  const digits = e164.replace(/^\+/, "");
  if (digits.length <= 6) {
    return "+" + "*".repeat(digits.length - 2) + digits.slice(-2);
  }
  return "+" + digits[0] + "*".repeat(digits.length - 5) + digits.slice(-4);
}

/**
 * Whether a caller may use the line. No allow-list (null) lets everyone in; with a list, only
 * callers whose E.164 number is on it (entries are normalised the same way; `*` allows everyone).
 */
export function isCallerAllowed(
  caller: string | null,
  allowList: readonly string[] | null,
) {
  if (allowList === null) return true;
  if (allowList.some((entry) => entry.trim() === "*")) return true;
  if (caller === null) return false;
  return allowList.some((entry) => normalizeE164(entry) === caller);
}

/** Allow-list entries that are neither E.164 numbers nor `*` (never match; worth a warning). */
export function invalidAllowListEntries(
  allowList: readonly string[] | null,
): string[] {
  return (allowList ?? []).filter((e) => e.trim() !== "*" && normalizeE164(e) === null);
}

/** What to do with a ringing call. */
export type CallDecision =
  | { action: "accept" }
  | {
    action: "reject";
    statusCode: typeof SIP_BUSY | typeof SIP_DECLINE;
    reason: string;
  };

/** Inputs for {@linkcode decideCall}. */
export interface DecideCallOptions {
  sip: Config["sip"];
  /** E.164 caller, or null when unknown. */
  caller: string | null;
  /** Non-null when a capacity or budget limit is reached (the reason is logged, not sent). */
  limitReached: string | null;
}

/**
 * Decides between accepting and rejecting: 603 Decline when SIP is off or the caller is not on
 * the allow-list, 486 Busy Here when a limit is reached, accept otherwise.
 */
export function decideCall(options: DecideCallOptions): CallDecision {
  const { sip, caller, limitReached } = options;
  const reject = (statusCode: 486 | 603, reason: string) =>
    ({ action: "reject", statusCode, reason }) as const;
  if (!sip.enabled) return reject(SIP_DECLINE, "sip_disabled");
  if (!isCallerAllowed(caller, sip.allowedCallers)) {
    return reject(SIP_DECLINE, "caller_not_allowed");
  }
  if (limitReached !== null) return reject(SIP_BUSY, limitReached);
  return { action: "accept" };
}

/** The transcription model a phone call uses: the configured default if it can run with VAD. */
export function sipTranscriptionModel(
  config: Pick<Config, "defaultModel">,
): string {
  const info = findModel(config.defaultModel);
  // A call has no page to commit turns, so the model must work with server VAD.
  if (!info || !info.supports.turnDetection) {
    return SIP_FALLBACK_TRANSCRIPTION_MODEL;
  }
  return info.id;
}

/**
 * The settings stored with a phone call's session (same shape as a browser session's, so lists,
 * viewers and exports treat both alike): the server's model, server VAD, confidence when the model
 * reports it.
 */
export function sipSessionSettings(
  config: Pick<Config, "defaultModel">,
): SessionSettings {
  const model = sipTranscriptionModel(config);
  return resolveSessionOptions({
    model,
    turnDetection: { type: "server_vad" },
    logprobs: findModel(model)?.supports.logprobs ?? false,
  }, { defaultModel: model });
}

/** Instructions that keep the realtime model from speaking: the app only transcribes. */
export const SILENT_INSTRUCTIONS =
  "You are a silent transcription service on a phone line. Never speak, never reply, " +
  "never produce output. Only listen.";

/**
 * The realtime session sent with `POST /v1/realtime/calls/{call_id}/accept`. A SIP call always
 * hosts a `type: "realtime"` session; this one transcribes the caller with the server's model and
 * never answers: server VAD with `create_response: false` (no turn ever triggers a reply), text
 * output only and one output token at most. SIP sessions reject `threshold`,
 * `prefix_padding_ms` and `silence_duration_ms`, so turn detection carries none of them. The
 * server-private prompt goes here directly (the caller never sees the session).
 */
export function sipAcceptSession(
  config: Pick<Config, "defaultModel" | "privatePrompt">,
): CallAcceptParams {
  const settings = sipSessionSettings(config);
  const info = findModel(settings.model);
  const transcription: AudioTranscription = { model: settings.model };
  if (config.privatePrompt?.trim() && info?.supports.prompt) {
    transcription.prompt = config.privatePrompt.trim();
  }
  const session: CallAcceptParams = {
    type: "realtime",
    model: SIP_REALTIME_MODEL,
    instructions: SILENT_INSTRUCTIONS,
    output_modalities: ["text"],
    max_output_tokens: 1,
    audio: {
      input: {
        transcription,
        turn_detection: {
          type: "server_vad",
          create_response: false,
          interrupt_response: false,
        },
      },
    },
  };
  if (settings.logprobs) {
    session.include = ["item.input_audio_transcription.logprobs"];
  }
  return session;
}

/**
 * The first global limit a new call would exceed, or null: concurrent sessions (browser and phone
 * alike) and today's transcription minutes — the same caps as a page's mint
 * ({@linkcode spendRefusal}). Per-client limits do not apply to phone calls.
 */
export async function sipLimitReached(
  store: Store,
  config: Pick<Config, "limits" | "ephemeralKeyTtlSeconds">,
  now: number,
): Promise<"concurrent_sessions" | "daily_minutes" | null> {
  const refusal = await spendRefusal(store, config.limits, {
    now,
    ephemeralKeyTtlSeconds: config.ephemeralKeyTtlSeconds,
  });
  if (refusal === null) return null;
  return refusal.code === "daily_budget_exhausted" ? "daily_minutes" : "concurrent_sessions";
}

/** Options for {@linkcode answerIncomingCall}. */
export interface AnswerCallOptions {
  config: Config;
  store: Store;
  upstream: Pick<UpstreamClient, "acceptCall" | "rejectCall">;
  /** Starts the sideband for an accepted call in the background (must not block). */
  startSideband: (sessionId: string, callId: string) => void;
  log?: Logger;
  /** Unix milliseconds; defaults to `Date.now()`. */
  now?: number;
}

/** What {@linkcode answerIncomingCall} did. */
export type AnswerCallResult =
  | { action: "accepted"; sessionId: string; caller: string }
  | {
    action: "rejected";
    statusCode: typeof SIP_BUSY | typeof SIP_DECLINE;
    reason: string;
    caller: string;
  }
  | { action: "duplicate"; sessionId: string | null };

/**
 * Answers a ringing call once: a call already handled (by any process) is a duplicate; otherwise
 * it is rejected (603/486, nothing stored) or accepted (a `sip` session with the masked caller is
 * stored, `/accept` is sent, then the sideband starts). When anything fails before the call is
 * answered (OpenAI refuses the accept or reject, e.g. an {@linkcode UpstreamError}, or the Store
 * fails), everything is undone (session deleted, claim released) and the error propagates, so a
 * retried delivery can try again.
 */
export async function answerIncomingCall(
  options: AnswerCallOptions,
  data: CallIncomingData,
): Promise<AnswerCallResult> {
  const { config, store, upstream } = options;
  const log = options.log ?? (() => {});
  const now = options.now ?? Date.now();
  const callId = data.call_id;
  const existing = await store.getSessionByCallId(callId);
  if (existing) return { action: "duplicate", sessionId: existing.id };
  const claimKey = `sip-call:${callId}`;
  if (!await claimOnce(store, claimKey, now)) {
    return { action: "duplicate", sessionId: null };
  }

  const number = callerFromSipHeaders(data.sip_headers);
  const caller = maskCaller(number);
  // Whatever fails before the call is answered is undone, so OpenAI's retry can try again.
  let sessionId: string | null = null;
  let decision: CallDecision;
  try {
    decision = decideCall({ sip: config.sip, caller: number, limitReached: null });
    if (decision.action === "accept") {
      const limitReached = await sipLimitReached(store, config, now);
      decision = decideCall({ sip: config.sip, caller: number, limitReached });
    }
    if (decision.action === "reject") {
      await upstream.rejectCall(callId, decision.statusCode);
    } else {
      const settings = sipSessionSettings(config);
      sessionId = (await store.createSession({
        source: "sip",
        model: settings.model,
        settings: settings as unknown as Record<string, unknown>,
        callId,
        caller,
      })).id;
      await upstream.acceptCall(callId, sipAcceptSession(config));
    }
  } catch (err) {
    if (sessionId !== null) await store.deleteSession(sessionId);
    await releaseClaim(store, claimKey, now);
    throw err;
  }

  if (decision.action === "reject") {
    log("info", "Phone call rejected", {
      callId,
      caller,
      statusCode: decision.statusCode,
      reason: decision.reason,
    });
    return {
      action: "rejected",
      statusCode: decision.statusCode,
      reason: decision.reason,
      caller,
    };
  }
  const id = sessionId as string;
  log("info", "Phone call accepted", { callId, caller, sessionId: id });
  try {
    options.startSideband(id, callId);
  } catch (err) {
    log("error", "Cannot start the sideband for a phone call", {
      callId,
      sessionId: id,
      error: String((err as Error)?.message ?? err),
    });
    await store.updateSession(id, {
      status: "failed",
      endedAt: Date.now(),
      endReason: "error: cannot start the sideband",
    });
  }
  return { action: "accepted", sessionId: id, caller };
}
