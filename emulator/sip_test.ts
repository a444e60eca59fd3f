/**
 * SIP simulation (protocol reference §2.6, §7): signed `realtime.call.incoming`
 * webhook with retries, accept validation, caller WAV through the engine to a
 * sideband, reject and refer.
 *
 * @module
 */
import assert from "node:assert/strict";
import { makeSpeechWav } from "../testing/speech.ts";
import { EventSocket, post, startTestEmulator, wsUrl } from "./testkit.ts";

const T = {};
const SECRET = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

interface Delivery {
  headers: Headers;
  body: string;
}

/** A webhook receiver that fails the first `failFirst` deliveries with 500. */
function receiver(failFirst: number) {
  const deliveries: Delivery[] = [];
  const waiters: (() => void)[] = [];
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, async (req) => {
    deliveries.push({ headers: req.headers, body: await req.text() });
    waiters.splice(0).forEach((w) => w());
    return new Response(null, {
      status: deliveries.length <= failFirst ? 500 : 204,
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    deliveries,
    async waitCount(n: number) {
      while (deliveries.length < n) {
        await new Promise<void>((r) => waiters.push(r));
      }
    },
    close: () => server.shutdown(),
  };
}

/** Independent HMAC check (not using webhook_sender.ts). */
async function verify(d: Delivery): Promise<boolean> {
  const key = await crypto.subtle.importKey(
    "raw",
    Uint8Array.fromBase64(SECRET.slice(6)),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const content = `${d.headers.get("webhook-id")}.${d.headers.get("webhook-timestamp")}.${d.body}`;
  return (await Promise.all(
    d.headers.get("webhook-signature")!.split(" ").map((s) =>
      crypto.subtle.verify(
        "HMAC",
        key,
        Uint8Array.fromBase64(s.replace(/^v1,/, "")),
        new TextEncoder().encode(content),
      )
    ),
  )).some(Boolean);
}

Deno.test(
  "§7 incoming SIP call: signed webhook, retry on 500, accept, caller audio to sideband, hangup",
  T,
  async () => {
    const text = "Hello, I am calling about my order.";
    const wav = await makeSpeechWav(text, {
      padStartSec: 0.5,
      padEndSec: 1,
      sampleRate: 16000,
    });
    const emu = await startTestEmulator({ webhookRetryDelaysMs: [50, 50] });
    const hook = receiver(1);
    let sb: EventSocket | null = null;
    try {
      const r = await post(emu, "/_emulator/sip/incoming", {
        from: "sip:+15555550100@sip.example.com",
        to: "sip:+18005551212@sip.example.com",
        webhookUrl: hook.url,
        secret: SECRET,
        wavPath: wav.path,
      });
      assert.equal(r.status, 201, r.text);
      const callId = r.json!.callId;
      await hook.waitCount(2);
      const [first, second] = hook.deliveries;
      assert.equal(
        first.headers.get("webhook-id"),
        second.headers.get("webhook-id"),
      );
      assert.match(first.headers.get("webhook-id")!, /^wh_[0-9a-f]{32}$/);
      assert.ok(await verify(first));
      assert.ok(await verify(second));
      const event = JSON.parse(second.body);
      assert.equal(event.type, "realtime.call.incoming");
      assert.equal(event.object, "event");
      assert.match(event.id, /^evt_/);
      assert.equal(event.data.call_id, callId);
      assert.deepEqual(event.data.sip_headers.slice(0, 2), [
        { name: "From", value: "sip:+15555550100@sip.example.com" },
        { name: "To", value: "sip:+18005551212@sip.example.com" },
      ]);
      assert.equal(
        emu.control.calls().find((c) => c.id === callId)!.state,
        "ringing",
      );

      // Accept validation: type required; SIP forbids VAD tuning fields.
      const noType = await post(emu, `/v1/realtime/calls/${callId}/accept`, {
        model: "gpt-realtime",
      });
      assert.equal(noType.status, 400);
      assert.equal(noType.json!.error.param, "type");
      const tuned = await post(emu, `/v1/realtime/calls/${callId}/accept`, {
        type: "realtime",
        audio: {
          input: {
            turn_detection: { type: "server_vad", silence_duration_ms: 300 },
          },
        },
      });
      assert.equal(tuned.status, 400);
      assert.equal(tuned.json!.error.code, "unknown_parameter");
      assert.equal(
        tuned.json!.error.param,
        "audio.input.turn_detection.silence_duration_ms",
      );

      emu.control.queueTranscripts([text], callId);
      const ok = await post(emu, `/v1/realtime/calls/${callId}/accept`, {
        type: "realtime",
        model: "gpt-realtime",
        audio: { input: { transcription: { model: "gpt-4o-transcribe" } } },
      });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.text, "");
      sb = new EventSocket(wsUrl(emu, `call_id=${callId}`), {
        headers: { Authorization: `Bearer ${emu.apiKey}` },
      });
      await sb.opened;
      const done = await sb.waitFor(
        "conversation.item.input_audio_transcription.completed",
        () => true,
        10000,
      );
      assert.equal(done.transcript, text);
      const started = sb.events.find((e) => e.type === "input_audio_buffer.speech_started")!;
      assert.ok(
        Math.abs(started.audio_start_ms + 300 - wav.speechStartMs) <= 100,
        `start ${started.audio_start_ms}`,
      );
      assert.equal(
        (await post(emu, `/v1/realtime/calls/${callId}/hangup`)).status,
        200,
      );
      await sb.closed;
      assert.equal(
        (await post(emu, `/v1/realtime/calls/${callId}/hangup`)).status,
        404,
      );
    } finally {
      await sb?.close();
      await hook.close();
      await emu.close();
    }
  },
);

Deno.test("§2.6 SIP reject and refer", T, async () => {
  const emu = await startTestEmulator({ webhookRetryDelaysMs: [] });
  const hook = receiver(0);
  try {
    const a = await post(emu, "/_emulator/sip/incoming", {
      webhookUrl: hook.url,
      secret: SECRET,
    });
    assert.equal(
      (await post(emu, `/v1/realtime/calls/${a.json!.callId}/reject`, {
        status_code: 486,
      })).status,
      200,
    );
    const ca = emu.control.calls().find((c) => c.id === a.json!.callId)!;
    assert.equal(ca.state, "ended");
    // deno-lint-ignore no-explicit-any
    assert.equal((ca.sip as any).rejectStatus, 486);

    const b = await post(emu, "/_emulator/sip/incoming", {
      webhookUrl: hook.url,
      secret: SECRET,
    });
    await post(emu, `/v1/realtime/calls/${b.json!.callId}/accept`, {
      type: "realtime",
    });
    const refer = await post(
      emu,
      `/v1/realtime/calls/${b.json!.callId}/refer`,
      { target_uri: "tel:+14155550123" },
    );
    assert.equal(refer.status, 200);
    assert.equal(refer.headers.get("content-length"), "0");
    const bad = await post(emu, "/_emulator/sip/incoming", {
      webhookUrl: hook.url,
      secret: "nope",
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.json!.error.param, "secret");
  } finally {
    await hook.close();
    await emu.close();
  }
});

Deno.test("close() does not wait for pending webhook retries", async () => {
  const emu = await startTestEmulator({ webhookRetryDelaysMs: [60_000] });
  const hook = receiver(10);
  try {
    await post(emu, "/_emulator/sip/incoming", {
      webhookUrl: hook.url,
      secret: SECRET,
    });
    await hook.waitCount(1);
    const t0 = performance.now();
    await emu.close();
    assert.ok(performance.now() - t0 < 5000);
  } finally {
    await hook.close();
  }
});

Deno.test("a call rejected while its webhook is in flight records the delivery's real status", async () => {
  const emu = await startTestEmulator({ webhookRetryDelaysMs: [50] });
  const rejected: number[] = [];
  // The receiver rejects the call from inside the webhook handler, then answers 200.
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, async (req) => {
    const event = JSON.parse(await req.text());
    const r = await post(
      emu,
      `/v1/realtime/calls/${event.data.call_id}/reject`,
      { status_code: 486 },
    );
    rejected.push(r.status);
    return new Response(null, { status: 200 });
  });
  try {
    const ring = await post(emu, "/_emulator/sip/incoming", {
      webhookUrl: `http://127.0.0.1:${server.addr.port}/hook`,
      secret: SECRET,
    });
    const callId = ring.json!.callId;
    // deno-lint-ignore no-explicit-any
    let call: any;
    const deadline = Date.now() + 5000;
    do {
      await new Promise((r) => setTimeout(r, 20));
      call = emu.control.calls().find((c) => c.id === callId);
      assert.ok(Date.now() < deadline, JSON.stringify(call?.sip));
    } while (call.sip.webhookDeliveries.length < 1);
    assert.deepEqual(rejected, [200]);
    assert.equal(call.state, "ended");
    assert.equal(call.endedReason, "rejected 486");
    assert.deepEqual(call.sip.webhookDeliveries, [{ attempt: 1, status: 200 }]);
    // No retry follows a 2xx (and none would follow a rejected call).
    await new Promise((r) => setTimeout(r, 150));
    // deno-lint-ignore no-explicit-any
    const after: any = emu.control.calls().find((c) => c.id === callId);
    assert.equal(after.sip.webhookDeliveries.length, 1);
  } finally {
    await emu.close();
    await server.shutdown();
  }
});

Deno.test("a SIP call nobody answers stops ringing after sipRingTimeoutSeconds", async () => {
  const emu = await startTestEmulator({
    webhookRetryDelaysMs: [],
    sipRingTimeoutSeconds: 0.2,
  });
  const hook = receiver(0);
  try {
    const ring = await post(emu, "/_emulator/sip/incoming", {
      webhookUrl: hook.url,
      secret: SECRET,
    });
    const callId = ring.json!.callId;
    await hook.waitCount(1);
    const deadline = Date.now() + 5000;
    while (
      emu.control.calls().find((c) => c.id === callId)!.state === "ringing"
    ) {
      assert.ok(Date.now() < deadline, "the call stopped ringing");
      await new Promise((r) => setTimeout(r, 20));
    }
    const call = emu.control.calls().find((c) => c.id === callId)!;
    assert.equal(call.state, "ended");
    assert.equal(call.endedReason, "ring timeout");
    const late = await post(emu, `/v1/realtime/calls/${callId}/accept`, {
      type: "realtime",
    });
    assert.equal(late.status, 404);
    // An accepted call is not ended by the ring timer.
    const b = await post(emu, "/_emulator/sip/incoming", {
      webhookUrl: hook.url,
      secret: SECRET,
    });
    assert.equal(
      (await post(emu, `/v1/realtime/calls/${b.json!.callId}/accept`, {
        type: "realtime",
      })).status,
      200,
    );
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(
      emu.control.calls().find((c) => c.id === b.json!.callId)!.state,
      "active",
    );
  } finally {
    await hook.close();
    await emu.close();
  }
});
