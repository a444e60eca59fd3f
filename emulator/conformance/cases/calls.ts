/**
 * `POST /v1/realtime/calls` and the call endpoints (protocol reference §2): raw SDP with an
 * ephemeral or standard key, multipart, the CORS preflight OpenAI's clients need, SDP and key
 * errors, hang-up. Offers come from a real werift peer; nothing is streamed.
 *
 * @module
 */
import type { Ev } from "../../testkit.ts";
import type { Case } from "../types.ts";
import { errorOf } from "./rest.ts";

const LOCATION = /^\/v1\/realtime\/calls\/rtc_[A-Za-z0-9_]+$/;

/** The headers a preflight allows, lower case. */
function allowedHeaders(h: Headers): string[] {
  return (h.get("access-control-allow-headers") ?? "").toLowerCase().split(",").map((x) => x.trim())
    .filter(Boolean);
}

export const CALL_CASES: readonly Case[] = [
  {
    id: "calls.raw_sdp",
    title:
      "Raw SDP with an ek_ and with the standard key: 201, answer, Location; hang-up 200 then 404",
    source: "§2.1, §2.3 [DOC + OpenAPI]",
    async run(ctx) {
      const peer = await ctx.peer();
      const secret = await ctx.mint({ type: "transcription" });
      for (
        const [which, key] of [["ek_", secret.json?.value], ["standard key", ctx.target.apiKey]]
      ) {
        const r = await ctx.rawCall(peer.offer, key);
        ctx.check(`${which}: status`, 201, r.status);
        ctx.check(`${which}: content-type`, "application/sdp", r.headers.get("content-type"));
        ctx.match(`${which}: Location`, LOCATION, r.headers.get("location"), "§2.3 [DOC]");
        ctx.check(
          `${which}: Location exposed to browsers`,
          "Location",
          r.headers.get("access-control-expose-headers"),
          { source: "§2.4 [INFER: browser samples read it]" },
        );
        ctx.match(`${which}: answer SDP`, /^v=0/, r.text);
        ctx.match(`${which}: x-request-id`, /^req_/, r.headers.get("x-request-id"), "openai SDK");
        if (!r.callId) continue;
        ctx.check(`${which}: hang-up`, 200, await ctx.hangup(r.callId), { source: "§2.6 [SDK]" });
        ctx.check(`${which}: hang-up again`, 404, await ctx.hangup(r.callId), {
          source: "§2.6 [LIVE comment in a third-party provider]",
        });
      }
      // One secret may start several calls; the call gets the secret's session.
      const second = await ctx.rawCall(peer.offer, secret.json?.value);
      ctx.check("the same ek_ starts a second call", 201, second.status, {
        source: "§1.1 [SDK comment]",
      });
      const listed = ctx.target.emulator?.control.calls().find((c) => c.id === second.callId);
      ctx.emulatorOnly(
        "the call has the secret's session",
        "transcription",
        (listed?.session as Ev | undefined)?.type,
      );
      if (second.callId) {
        const byEk = await ctx.post(
          `/v1/realtime/calls/${second.callId}/hangup`,
          {},
          secret.json?.value,
        );
        ctx.check("an ek_ cannot hang up", 401, byEk.status, {
          source: "§2.6 [SDK: standard key; INFER]",
        });
      }
    },
  },
  {
    id: "calls.multipart",
    title:
      "Multipart sdp + session with the standard key; a boundary is required; the session is validated",
    source: "§2.2 [SDK openai-python; LIVE bifrost#7089]",
    async run(ctx) {
      const peer = await ctx.peer();
      const form = new FormData();
      form.set("sdp", new Blob([peer.offer], { type: "application/sdp" }));
      form.set(
        "session",
        new Blob([JSON.stringify({
          type: "transcription",
          audio: { input: { transcription: { model: "gpt-4o-mini-transcribe" } } },
        })], { type: "application/json" }),
      );
      const auth = { authorization: `Bearer ${ctx.target.apiKey}` };
      const r = await ctx.request("/v1/realtime/calls", {
        method: "POST",
        headers: auth,
        body: form,
      });
      ctx.check("status", 201, r.status);
      ctx.match("answer SDP", /^v=0/, r.text);
      const callId = r.headers.get("location")?.split("/").pop();
      if (callId) {
        ctx.defer(() => ctx.hangup(callId));
        const listed = ctx.target.emulator?.control.calls().find((c) => c.id === callId);
        ctx.emulatorOnly(
          "the call has the posted session",
          "gpt-4o-mini-transcribe",
          (listed?.session as Ev | undefined)?.audio.input.transcription.model,
        );
      }
      const noBoundary = await ctx.request("/v1/realtime/calls", {
        method: "POST",
        headers: { ...auth, "content-type": "multipart/form-data" },
        body: "--x\r\n",
      });
      ctx.check("multipart without a boundary", 400, noBoundary.status, {
        source: "§2.2 [pydantic-ai: the SDK's boundary-less header fails]",
      });
      ctx.check("… answers an error envelope", true, typeof noBoundary.json?.error === "object");
      ctx.emulatorOnly("… with no code or param", "400 null null", errorOf(noBoundary));
      const bad = new FormData();
      bad.set("sdp", peer.offer);
      bad.set("session", JSON.stringify({ type: "transcription", bogus: true }));
      const r2 = await ctx.request("/v1/realtime/calls", {
        method: "POST",
        headers: auth,
        body: bad,
      });
      ctx.check("an unknown session field", "400 unknown_parameter session.bogus", errorOf(r2), {
        source: "§2.2 [validated like client_secrets; INFER]",
      });
    },
  },
  {
    id: "calls.preflight",
    title: "CORS preflight: the headers OpenAI's browser clients send are allowed, others refused",
    source: "§2.4",
    async run(ctx) {
      const preflight = async (headers: string) => {
        const r = await ctx.request("/v1/realtime/calls", {
          method: "OPTIONS",
          headers: {
            origin: "http://app.test",
            "access-control-request-method": "POST",
            "access-control-request-headers": headers,
          },
        });
        return r;
      };
      const basic = await preflight("authorization,content-type");
      ctx.check("status", true, basic.status === 200 || basic.status === 204, {
        source: "Fetch standard (2xx)",
      });
      ctx.emulatorOnly("status", 204, basic.status);
      ctx.check(
        "allow-origin",
        true,
        ["http://app.test", "*"].includes(
          basic.headers.get("access-control-allow-origin") ?? "",
        ),
      );
      ctx.emulatorOnly(
        "allow-origin echoes Origin",
        "http://app.test",
        basic.headers.get("access-control-allow-origin"),
      );
      ctx.match("allow-methods", /POST/, basic.headers.get("access-control-allow-methods"));
      const has = (h: Headers, name: string) => allowedHeaders(h).includes(name);
      for (const name of ["authorization", "content-type"]) {
        ctx.check(`allows ${name}`, true, has(basic.headers, name), {
          source: "§2.4 [DOC samples]",
        });
      }
      const agents = await preflight("authorization,content-type,x-openai-agents-sdk");
      ctx.check("allows x-openai-agents-sdk", true, has(agents.headers, "x-openai-agents-sdk"), {
        source: "@openai/agents-realtime browser SDP POST (live preflight passes it)",
      });
      const refused = await preflight("authorization,content-type,originator,version");
      for (const name of ["originator", "version"]) {
        ctx.check(`refuses ${name}`, false, has(refused.headers, name), {
          source: "[LIVE openclaw/openclaw#76435]",
        });
      }
      const stainless = await preflight("authorization,content-type,x-stainless-os");
      ctx.check(
        "allows the openai package's x-stainless-*",
        true,
        has(stainless.headers, "x-stainless-os"),
        {
          source: "[INFER: the openai package supports browsers]",
        },
      );
      ctx.match(
        "x-request-id on the preflight",
        /^req_/,
        basic.headers.get("x-request-id"),
        "openai SDK",
      );
    },
  },
  {
    id: "calls.errors",
    title: "Bad SDP 400, unknown or expired key 401 (with CORS), unknown call 404",
    source: "§2.5 [LIVE]",
    async run(ctx) {
      const peer = await ctx.peer();
      const bad = await ctx.rawCall("hello", ctx.target.apiKey);
      ctx.check("bad SDP: status", 400, bad.status);
      ctx.check(
        "bad SDP: an error envelope (its fields may be empty)",
        true,
        typeof bad.json?.error === "object",
        {
          source: "§2.5 [LIVE openai-agents-js#438]",
        },
      );
      ctx.emulatorOnly(
        "bad SDP: descriptive error",
        "invalid_offer sdp",
        `${bad.json?.error?.code} ${bad.json?.error?.param}`,
      );
      const unknown = await ctx.rawCall(peer.offer, "ek_doesnotexist");
      ctx.check("unknown ek_", "401 invalid_api_key null", errorOf(unknown), {
        source: "§2.5 [LIVE strelov1/freehire#1736]",
      });
      ctx.check(
        "the 401 carries CORS headers (a browser can read it)",
        true,
        !!unknown.headers.get("access-control-allow-origin"),
        { source: "[INFER]" },
      );
      const expiring = await ctx.mint({ type: "transcription" }, {
        expires_after: { anchor: "created_at", seconds: 10 },
      });
      const value = expiring.json?.value as string;
      await ctx.expireSecret(value);
      const expired = await ctx.rawCall(peer.offer, value);
      ctx.check("an expired ek_", 401, expired.status, {
        source: "§1.2 [SDK: expiry limits starting calls]",
      });
      for (const action of ["hangup", "accept", "reject", "refer"]) {
        const r = await ctx.post(`/v1/realtime/calls/rtc_nope/${action}`, {});
        ctx.check(`${action} of an unknown call`, 404, r.status, { source: "§2.6 [LIVE comment]" });
        ctx.emulatorOnly(`${action}: error`, "404 call_not_found null", errorOf(r));
      }
    },
  },
];
