/**
 * Helpers for the phone-call tests: the SIP environment, the emulator's simulated incoming call
 * (`POST /_emulator/sip/incoming`, signed by the emulator's own webhook signer), the emulator's
 * view of a call, and a local sink that captures a genuine signed delivery so a test controls what
 * reaches the app.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type TestApp, waitFor } from "./server.ts";
import type { SessionRow } from "../lib/store/types.ts";

/** The webhook secret every SIP test configures (`whsec_` + base64 of 32 bytes). */
export const SIP_SECRET = `whsec_${new Uint8Array(32).map((_, i) => 200 - i).toBase64()}`;
/** A caller on the allow-list of {@linkcode sipEnv}. */
export const ALLOWED = "+15555550100";
/** A `From` header of {@linkcode ALLOWED} in its usual display-name form. */
export const FROM_ALLOWED = `"Ada" <sip:${ALLOWED}@sip.example.com>;tag=1`;

/** SIP on, the secret set, and an allow-list of two numbers; `extra` overrides. */
export function sipEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    SIP_ENABLED: "true",
    OPENAI_WEBHOOK_SECRET: SIP_SECRET,
    SIP_ALLOWED_CALLERS: `${ALLOWED}, +442079460958`,
    ...extra,
  };
}

/** The emulator's JSON view of a call (`GET /_emulator/calls/:id`). */
// deno-lint-ignore no-explicit-any
export type EmulatorCall = any;

/** Makes the emulator ring the app (or `webhookUrl`); returns the call id. */
export async function ring(
  t: TestApp,
  opts: { from: string; wavPath?: string; webhookUrl?: string },
): Promise<string> {
  const res = await fetch(`${t.emulator.baseUrl}/_emulator/sip/incoming`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      from: opts.from,
      to: "sip:+18005551212@sip.example.com",
      webhookUrl: opts.webhookUrl ?? `${t.baseUrl}/webhooks/openai`,
      secret: SIP_SECRET,
      ...(opts.wavPath ? { wavPath: opts.wavPath } : {}),
    }),
  });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  return body.callId;
}

/** The emulator's view of one call. */
export async function emulatorCall(t: TestApp, callId: string): Promise<EmulatorCall> {
  const res = await fetch(`${t.emulator.baseUrl}/_emulator/calls/${callId}`);
  assert.equal(res.status, 200);
  return await res.json();
}

/** Waits until the emulator's view of the call satisfies `ok`; returns that view. */
export function waitForCall(
  t: TestApp,
  callId: string,
  ok: (call: EmulatorCall) => boolean,
  message: string,
): Promise<EmulatorCall> {
  return waitFor(async () => {
    const call = await emulatorCall(t, callId);
    return ok(call) ? call : null;
  }, { message });
}

/** Every stored session, straight from the store (newest first). */
export async function storedSessions(t: TestApp): Promise<SessionRow[]> {
  return (await t.store.listSessions({ limit: 100 })).sessions;
}

/** One webhook delivery as the app would have received it. */
export interface Delivery {
  headers: Headers;
  body: string;
}

/** A local endpoint that records the webhook deliveries the emulator sends it. */
export function startSink(): {
  deliveries: Delivery[];
  url: Promise<string>;
  close: () => Promise<void>;
} {
  const deliveries: Delivery[] = [];
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: (a) => resolve(a as Deno.NetAddr),
  }, async (req) => {
    deliveries.push({ headers: req.headers, body: await req.text() });
    return new Response("ok");
  });
  return {
    deliveries,
    url: listening.then((a) => `http://127.0.0.1:${a.port}/hook`),
    close: () => server.shutdown(),
  };
}

/**
 * Rings an allowed caller's call whose webhook goes to `sink` instead of the app; returns the call
 * id and the genuine signed delivery, for the test to relay (or tamper with).
 */
export async function ringToSink(
  t: TestApp,
  sink: ReturnType<typeof startSink>,
): Promise<{ callId: string; genuine: Delivery }> {
  const callId = await ring(t, { from: FROM_ALLOWED, webhookUrl: await sink.url });
  const genuine = await waitFor(() => sink.deliveries[0], {
    message: "the signed delivery",
  });
  return { callId, genuine };
}
