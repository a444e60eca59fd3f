/**
 * SIP simulation: `POST /_emulator/sip/incoming` creates a ringing call and delivers a
 * signed `realtime.call.incoming` webhook; `/accept` starts a realtime session and
 * plays the caller's WAV (resampled to 24 kHz, paced in real time) through the engine.
 *
 * @module
 */
import { Session } from "./engine.ts";
import { ApiError } from "./errors.ts";
import * as ids from "./ids.ts";
import { readWav, resample } from "./audio.ts";
import type { EffectiveSession } from "./session_schema.ts";
import { newCallRecord } from "./calls.ts";
import type { CallRecord, EmulatorState } from "./state.ts";
import { check, s } from "./validate.ts";
import { deliverWebhook } from "./webhook_sender.ts";

const incomingSpec = s.object({
  from: s.string(),
  to: s.string(),
  webhookUrl: s.string(),
  secret: s.string(),
  wavPath: s.string(),
}, ["webhookUrl", "secret"]);

/** Creates a ringing SIP call and starts webhook delivery; returns the call id. */
export function incomingSipCall(
  state: EmulatorState,
  body: unknown,
): { callId: string; eventId: string } {
  check(incomingSpec, body, "");
  // deno-lint-ignore no-explicit-any
  const b = body as any;
  if (!b.secret.startsWith("whsec_")) {
    throw new ApiError(
      400,
      "invalid_value",
      "The secret must start with 'whsec_'.",
      "secret",
    );
  }
  const call = newCallRecord("sip");
  call.state = "ringing";
  const from = b.from ?? "sip:+15555550100@sip.example.com";
  const to = b.to ?? "sip:+18005551212@sip.example.com";
  call.sip = {
    from,
    to,
    wavPath: b.wavPath,
    webhookUrl: b.webhookUrl,
    webhookDeliveries: [],
  };
  state.calls.set(call.id, call);
  // Nobody answers: the call stops ringing (timeout length unverified; an option).
  call.ringTimer = setTimeout(() => {
    if (call.state === "ringing") void state.endCall(call, "ring timeout");
  }, state.options.sipRingTimeoutSeconds * 1000);
  const event = {
    object: "event",
    id: ids.webhookEventId(),
    type: "realtime.call.incoming",
    created_at: Math.floor(Date.now() / 1000),
    data: {
      call_id: call.id,
      sip_headers: [
        { name: "From", value: from },
        { name: "To", value: to },
        { name: "Call-ID", value: crypto.randomUUID() },
      ],
    },
  };
  state.track(deliverWebhook(b.webhookUrl, b.secret, event, {
    retryDelaysMs: state.options.webhookRetryDelaysMs,
    // The call ending (reject, accept then hangup…) stops retries but lets an
    // in-flight delivery finish; only the emulator's shutdown cancels it.
    signal: call.abort.signal,
    requestSignal: state.shutdown.signal,
    onAttempt: (a) => call.sip!.webhookDeliveries.push(a),
  }));
  return { callId: call.id, eventId: event.id };
}

/** `/accept`: starts the session and the caller's audio. */
export function acceptSipCall(
  state: EmulatorState,
  call: CallRecord,
  config: EffectiveSession,
): void {
  clearTimeout(call.ringTimer);
  const session = new Session(state.host, config, ids.sessionId(), [call.id]);
  call.session = session;
  call.state = "active";
  session.onEnd = (reason) => void state.endCall(call, reason);
  state.track(playCaller(call, session));
}

const FRAME_MS = 20;

async function playCaller(call: CallRecord, session: Session): Promise<void> {
  let samples: Int16Array = new Int16Array(0);
  if (call.sip?.wavPath) {
    const wav = readWav(await Deno.readFile(call.sip.wavPath));
    samples = wav.sampleRate === 24000 ? wav.samples : resample(wav.samples, wav.sampleRate, 24000);
  }
  const frame = 24 * FRAME_MS;
  const silence = new Int16Array(frame);
  const start = performance.now();
  const signal = call.abort.signal;
  for (let i = 0; !signal.aborted && !session.ended; i++) {
    const off = i * frame;
    const chunk = off < samples.length
      ? samples.subarray(off, Math.min(off + frame, samples.length))
      : silence;
    session.pushAudio(chunk);
    const wait = start + (i + 1) * FRAME_MS - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}
