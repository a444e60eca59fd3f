/**
 * `POST /v1/realtime/translations/calls` and translation calls over WebRTC (protocol reference
 * "Update, 2026-12"): raw SDP with a translation ek_ or the standard key, the answer's audio
 * back-channel, CORS as for `/v1/realtime/calls`, key and session mismatches, then a connected
 * werift peer: `session.created` first, what `session.update` may change, `session.close`, and
 * the open questions of sidebands, hang-up and `?model=`.
 *
 * @module
 */
import { createOpusDecoder } from "../../webrtc.ts";
import type { Ev } from "../../testkit.ts";
import type { CaseContext } from "../context.ts";
import type { ClientPeer } from "../peer.ts";
import {
  TRANSLATION_CALL_MODEL_QUERY,
  TRANSLATION_HANGUP,
  TRANSLATION_SIDEBAND,
  TRANSLATION_UNLISTED_LANGUAGES,
  TRANSLATION_UPDATABLE_FIELDS,
} from "../questions.ts";
import type { Case } from "../types.ts";
import { errorOf } from "./rest.ts";
import { translationKey } from "./translation_secrets.ts";

/** The Translation API's calls endpoint. */
export const TRANSLATION_CALLS = "/v1/realtime/translations/calls";

const REQUEST_ID = /^req_[0-9a-zA-Z]+$/;
const ALL_EMPTY = { error: { message: "", type: "", code: "", param: "" } };

/** The audio m-section of an SDP. */
function audioSection(sdp: string): string {
  return sdp.split(/^(?=m=)/m).find((m) => m.startsWith("m=audio")) ?? "";
}

/** The direction attribute of an SDP section. */
function direction(section: string): string | null {
  return /^a=(sendrecv|sendonly|recvonly|inactive)\r?$/m.exec(section)?.[1] ?? null;
}

/** Polls `condition` every 20 ms for up to `ms`; resolves with its last value. */
async function eventually(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return condition();
}

/** Posts the peer's offer to the translation calls endpoint with `key` and connects it. */
async function connectedTranslationCall(
  ctx: CaseContext,
  key: string,
): Promise<{ peer: ClientPeer; callId: string | null; status: number }> {
  const peer = await ctx.peer();
  const call = await ctx.rawCall(peer.offer, key, TRANSLATION_CALLS);
  if (call.status !== 201 || !call.callId) return { peer, callId: null, status: call.status };
  await peer.connect(call.text, ctx.timeoutMs);
  return { peer, callId: call.callId, status: call.status };
}

/** Sends `event` on the channel; resolves with the next `session.updated` or `error` (or null). */
function answerOn(ctx: CaseContext, peer: ClientPeer, event: Ev): Promise<Ev | null> {
  const n = peer.events.length;
  peer.send(event);
  const next = (e: Ev) => peer.events.indexOf(e) >= n;
  return Promise.race([
    peer.waitFor("session.updated", next, ctx.timeoutMs),
    peer.waitFor("error", next, ctx.timeoutMs),
  ]).catch(() => null);
}

/** An answer as the checks compare it: `session.updated` or `error code param`. */
function answered(e: Ev | null): string {
  if (!e) return "no answer";
  return e.type === "error" ? `error ${e.error?.code} ${e.error?.param}` : e.type;
}

export const TRANSLATION_CALL_CASES: readonly Case[] = [
  {
    id: "translation.calls.raw_sdp",
    title:
      "Raw SDP with a translation ek_ and with the standard key: 201, Location, CORS, an answer that sends audio",
    source: "2026-12 update [DOC realtime-translation guide]",
    async run(ctx) {
      const peer = await ctx.peer();
      const defaultLanguage = ctx.target.emulator?.control.state.options.translationDefaultLanguage;
      const keys: [string, string, string | undefined][] = [
        ["ek_", await translationKey(ctx, "de"), "de"],
        ["standard key", ctx.target.apiKey, defaultLanguage],
      ];
      for (const [which, key, language] of keys) {
        const r = await ctx.rawCall(peer.offer, key, TRANSLATION_CALLS);
        ctx.check(`${which}: status`, 201, r.status);
        ctx.check(`${which}: content-type`, "application/sdp", r.headers.get("content-type"));
        ctx.match(
          `${which}: Location ends in the call id`,
          /\/rtc_[A-Za-z0-9_]+$/,
          r.headers.get("location"),
          "2026-12 update [INFER: clients take the last segment]",
        );
        ctx.emulatorOnly(
          `${which}: Location path`,
          "/v1/realtime/translations/calls/rtc_…",
          r.headers.get("location"),
          /^\/v1\/realtime\/translations\/calls\/rtc_[A-Za-z0-9_]+$/.test(
            r.headers.get("location") ?? "",
          ),
        );
        ctx.check(
          `${which}: Location exposed to browsers`,
          "Location",
          r.headers.get("access-control-expose-headers"),
          { source: "as §2.4 [INFER: browser clients read it]" },
        );
        ctx.emulatorOnly(
          `${which}: allow-origin without an Origin`,
          "*",
          r.headers.get("access-control-allow-origin"),
        );
        ctx.match(
          `${which}: x-request-id`,
          REQUEST_ID,
          r.headers.get("x-request-id"),
          "openai SDK",
        );
        const audio = audioSection(r.text);
        ctx.check(`${which}: the answer's audio m-line sends`, "sendrecv", direction(audio), {
          source: "2026-12 update [DOC: translated speech comes back as a remote track]",
        });
        ctx.check(
          `${which}: … with a stream id (a=msid)`,
          true,
          /^a=msid:\S+ \S+\r?$/m.test(audio),
          {
            source: "[INFER: the guide's clients play ontrack's streams[0]]",
          },
        );
        const listed = ctx.target.emulator?.control.calls().find((c) => c.id === r.callId);
        const session = listed?.session as Ev | undefined;
        ctx.emulatorOnly(
          `${which}: the call (kind api type language)`,
          `webrtc translation translation ${language}`,
          `${listed?.kind} ${listed?.api} ${session?.type} ${session?.audio?.output?.language}`,
        );
      }
      const plain = await ctx.rawCall(peer.offer, ctx.target.apiKey);
      ctx.emulatorOnly("a Realtime call with the same offer", 201, plain.status);
      ctx.emulatorOnly(
        "a Realtime call's answer only receives audio",
        "recvonly",
        direction(audioSection(plain.text)),
      );
    },
  },
  {
    id: "translation.calls.preflight",
    title: "CORS preflight of the translation calls and hang-up URLs: the /v1/realtime/calls rules",
    source: "as §2.4 [INFER: the same rules as /v1/realtime/calls]",
    async run(ctx) {
      const requested =
        "authorization, content-type, x-openai-agents-sdk, x-stainless-os, originator, version";
      for (const path of [TRANSLATION_CALLS, `${TRANSLATION_CALLS}/rtc_x/hangup`]) {
        const r = await ctx.request(path, {
          method: "OPTIONS",
          headers: {
            origin: "http://app.test",
            "access-control-request-method": "POST",
            "access-control-request-headers": requested,
          },
        });
        ctx.check(`${path}: status`, true, r.status === 200 || r.status === 204, {
          source: "Fetch standard (2xx)",
        });
        ctx.emulatorOnly(`${path}: status`, 204, r.status);
        const origin = r.headers.get("access-control-allow-origin") ?? "";
        ctx.check(`${path}: allow-origin`, true, ["http://app.test", "*"].includes(origin));
        ctx.emulatorOnly(`${path}: allow-origin echoes Origin`, "http://app.test", origin);
        const methods = r.headers.get("access-control-allow-methods");
        ctx.match(`${path}: allow-methods`, /POST/, methods);
        ctx.emulatorOnly(`${path}: allow-methods`, "POST, OPTIONS", methods);
        const allowed = (r.headers.get("access-control-allow-headers") ?? "").toLowerCase()
          .split(",").map((x) => x.trim()).filter(Boolean);
        for (const name of ["authorization", "content-type"]) {
          ctx.check(`${path}: allows ${name}`, true, allowed.includes(name), {
            source: "2026-12 update [DOC: the browser posts its offer with both]",
          });
        }
        for (const name of ["x-openai-agents-sdk", "x-stainless-os"]) {
          ctx.check(`${path}: allows ${name}`, true, allowed.includes(name));
        }
        for (const name of ["originator", "version"]) {
          ctx.check(`${path}: refuses ${name}`, false, allowed.includes(name));
        }
        ctx.emulatorOnly(
          `${path}: allow-headers`,
          "authorization, content-type, x-openai-agents-sdk, x-stainless-os",
          r.headers.get("access-control-allow-headers"),
        );
        ctx.match(`${path}: x-request-id`, REQUEST_ID, r.headers.get("x-request-id"), "openai SDK");
      }
    },
  },
  {
    id: "translation.calls.errors",
    title:
      "401s, a Realtime secret here and a translation secret there, bad SDP, multipart, an expired secret, ?model=",
    source: "2026-12 update; errors as §2.5 [LIVE, for /v1/realtime/calls]",
    async run(ctx) {
      const peer = await ctx.peer();
      const none = await ctx.request(TRANSLATION_CALLS, {
        method: "POST",
        headers: { "content-type": "application/sdp" },
        body: peer.offer,
      });
      ctx.check("no key", 401, none.status);
      ctx.emulatorOnly("no key: error", "401 null null", errorOf(none));
      const wrong = await ctx.rawCall(peer.offer, "ek_0123456789abcdef", TRANSLATION_CALLS);
      ctx.check("unknown ek_", "401 invalid_api_key null", errorOf(wrong));
      ctx.match("unknown ek_: x-request-id", REQUEST_ID, wrong.headers.get("x-request-id"));

      const realtime = await ctx.mint({ type: "transcription" });
      const cross = await ctx.rawCall(peer.offer, realtime.json?.value, TRANSLATION_CALLS);
      ctx.check("a Realtime ek_ on the translation URL", 400, cross.status, {
        source: "[INFER: a mismatched session/key type]",
      });
      ctx.check("… OpenAI's all-empty error", ALL_EMPTY, cross.json, {
        source: "[INFER: as an ek_ on the multipart form, §2.5 LIVE]",
      });
      const ek = await translationKey(ctx, "es");
      const back = await ctx.rawCall(peer.offer, ek);
      ctx.check("a translation ek_ on /v1/realtime/calls", 400, back.status, {
        source: "[INFER: a mismatched session/key type]",
      });
      ctx.check("… OpenAI's all-empty error (code)", "", back.json?.error?.code, {
        source: "[INFER: as an ek_ on the multipart form, §2.5 LIVE]",
      });
      const ws = ctx.socket("intent=transcription", { headers: { Authorization: `Bearer ${ek}` } });
      ctx.check("a translation ek_ on /v1/realtime?intent=: close", 4000, (await ws.closed).code, {
        source: "[INFER: as other refused sessions, §4.3]",
      });
      ctx.emulatorOnly("… its error", "invalid_request", ws.events[0]?.error?.code);

      const bad = await ctx.rawCall("hello", ctx.target.apiKey, TRANSLATION_CALLS);
      ctx.check("bad SDP", 400, bad.status, { source: "as §2.5 [LIVE]" });
      ctx.emulatorOnly(
        "bad SDP: descriptive error",
        "invalid_offer sdp",
        `${bad.json?.error?.code} ${bad.json?.error?.param}`,
      );
      const form = new FormData();
      form.set("sdp", peer.offer);
      const multipart = await ctx.request(TRANSLATION_CALLS, {
        method: "POST",
        headers: { authorization: `Bearer ${ctx.target.apiKey}` },
        body: form,
      });
      ctx.check("a multipart form", 400, multipart.status, {
        source: "[INFER: no source shows one for translation calls]",
      });
      ctx.emulatorOnly("… its error", "400 null null", errorOf(multipart));

      const expiring = await ctx.post("/v1/realtime/translations/client_secrets", {
        session: { model: "gpt-realtime-translate" },
        expires_after: { anchor: "created_at", seconds: 10 },
      });
      const value = expiring.json?.value as string;
      await ctx.expireSecret(value);
      const expired = await ctx.rawCall(peer.offer, value, TRANSLATION_CALLS);
      ctx.check("an expired ek_", "401 invalid_api_key null", errorOf(expired), {
        source: "as §1.2 [SDK: expiry limits starting calls]",
      });

      const calls = () => ctx.target.emulator?.control.calls().length ?? 0;
      const before = calls();
      const query = await ctx.rawCall(
        peer.offer,
        ek,
        `${TRANSLATION_CALLS}?model=gpt-realtime-translate`,
      );
      const refuses = (ctx.target.emulator?.control.state.options.translationCallModelQuery ??
        "reject") === "reject";
      ctx.question(
        TRANSLATION_CALL_MODEL_QUERY,
        "?model=gpt-realtime-translate on the calls URL",
        refuses ? "400 unknown_parameter model" : "201",
        query.status === 201 ? "201" : errorOf(query),
      );
      if (refuses) ctx.emulatorOnly("… no call was started", before, calls());
    },
  },
  {
    id: "translation.webrtc.session",
    title:
      "A connected translation call: session.created first, what session.update may change, session.close",
    source: "2026-12 update [DOC realtime-translation guide]",
    async run(ctx) {
      const call = await connectedTranslationCall(ctx, await translationKey(ctx, "es"));
      ctx.check("call created", 201, call.status);
      if (!call.callId) return;
      const { peer } = call;
      const created = await peer.waitFor("session.created", () => true, ctx.timeoutMs);
      ctx.check("first data-channel event", "session.created", peer.events[0]?.type, {
        source: "as §3 [INFER]",
      });
      ctx.match("event_id", /^event_/, created.event_id, "[LIVE pattern of Realtime events]");
      ctx.check("session.type", "translation", created.session?.type);
      ctx.check("the secret's language", "es", created.session?.audio?.output?.language);
      ctx.check("the session lasts about an hour", "> now + 3000 s", created.session?.expires_at, {
        ok: created.session?.expires_at > Date.now() / 1000 + 3000,
        source: "as §8 [INFER: 60 minutes as Realtime sessions]",
      });

      const sdk = ctx.target.emulator?.control.state.options.translationUpdatableFields === "sdk";
      const input = await answerOn(ctx, peer, {
        type: "session.update",
        event_id: "evt_1",
        session: { audio: { input: { transcription: { model: "gpt-realtime-whisper" } } } },
      });
      ctx.question(
        TRANSLATION_UPDATABLE_FIELDS,
        "session.update of audio.input.transcription",
        sdk ? "session.updated" : "error unsupported_parameter session.audio.input.transcription",
        answered(input),
      );
      if (input?.type === "error") {
        ctx.check("the error echoes the client's event_id", "evt_1", input.error?.event_id, {
          source: "§6.5 [LIVE, for Realtime]",
        });
      }
      const transcription = input?.type === "session.updated"
        ? input.session?.audio?.input?.transcription ?? null
        : null;
      const modelUpdate = await answerOn(ctx, peer, {
        type: "session.update",
        session: { model: "gpt-realtime-translate" },
      });
      ctx.check(
        "session.update of model",
        "error unknown_parameter session.model",
        answered(modelUpdate),
        { source: "2026-11 update [SDK: the update request has no model]" },
      );
      const badLanguage = await answerOn(ctx, peer, {
        type: "session.update",
        session: { audio: { output: { language: "xx" } } },
      });
      const refuses = (ctx.target.emulator?.control.state.options.translationLanguages ??
        "listed") === "listed";
      ctx.question(
        TRANSLATION_UNLISTED_LANGUAGES,
        "session.update to 'xx' on the data channel",
        refuses ? "error invalid_value session.audio.output.language" : "session.updated",
        answered(badLanguage),
      );
      const commit = await answerOn(ctx, peer, { type: "input_audio_buffer.commit" });
      ctx.check("a Realtime client event", "error invalid_value type", answered(commit), {
        source: "2026-11 update [SDK: three translation client events]",
      });
      ctx.emulatorOnly(
        "… the error lists the three",
        "'session.update', 'session.input_audio_buffer.append', and 'session.close'",
        commit?.error?.message,
        /'session\.update', 'session\.input_audio_buffer\.append', and 'session\.close'/.test(
          commit?.error?.message ?? "",
        ),
      );
      const ja = await answerOn(ctx, peer, {
        type: "session.update",
        session: { audio: { output: { language: "ja" } } },
      });
      ctx.check("session.update of the output language", "session.updated", answered(ja), {
        source: "2026-12 update [DOC: the output language may change]",
      });
      ctx.check("… the whole session, only the language changed", {
        input: { noise_reduction: null, transcription },
        output: { language: "ja" },
      }, ja?.session?.audio);

      if (ctx.target.emulator) {
        // The emulator's audio back-channel runs continuously: silence while nothing is said.
        await eventually(() => peer.audioPayloads.length >= 10, 5000);
        ctx.emulatorOnly(
          "audio comes back while idle",
          ">= 10 packets",
          peer.audioPayloads.length,
          peer.audioPayloads.length >= 10,
        );
        const last = peer.audioPayloads.at(-1);
        if (last) {
          const decoder = createOpusDecoder();
          try {
            const pcm = decoder.decode(last);
            ctx.emulatorOnly("… 20 ms frames (480 samples at 24 kHz)", 480, pcm.length);
            ctx.emulatorOnly(
              "… of silence",
              "every |sample| < 50",
              Math.max(...pcm.map(Math.abs)),
              pcm.every((v) => Math.abs(v) < 50),
            );
          } finally {
            decoder.close();
          }
        }
      }

      peer.send({ type: "session.close" });
      const closed = await peer.waitFor("session.closed", () => true, ctx.timeoutMs)
        .catch(() => null);
      ctx.check("session.close → session.closed", "session.closed", closed?.type ?? "none", {
        source: "2026-11 update [SDK]",
      });
      if (ctx.target.emulator) {
        await eventually(() => peer.channelState() === "closed", 5000);
        ctx.emulatorOnly("the call ends: the channel closes", "closed", peer.channelState());
        const listed = ctx.target.emulator.control.calls().find((c) => c.id === call.callId);
        ctx.emulatorOnly(
          "… the call (state reason peer)",
          "ended session.close null",
          `${listed?.state} ${listed?.endedReason} ${listed?.peer}`,
        );
      }
    },
  },
  {
    id: "translation.webrtc.sideband_hangup",
    title:
      "A translation call's sidebands and hang-up on both URLs; SIP call control does not apply",
    source: "2026-12 update [DOC: whether a translation call accepts a sideband is unknown]",
    async run(ctx) {
      const call = await connectedTranslationCall(ctx, ctx.target.apiKey);
      ctx.check("call created with the standard key", 201, call.status);
      if (!call.callId) return;
      const options = ctx.target.emulator?.control.state.options;
      const allowed = options?.translationSideband ?? "refused";
      const urls = [["realtime_url", "/v1/realtime"], [
        "translations_url",
        "/v1/realtime/translations",
      ]] as const;
      for (const [name, path] of urls) {
        const s = ctx.socket(`call_id=${call.callId}`, undefined, path);
        const outcome = await s.opened.then(() => "attached", () => "refused");
        ctx.question(
          TRANSLATION_SIDEBAND,
          `a sideband on ${path}?call_id=`,
          allowed === "both" || allowed === name ? "attached" : "refused",
          outcome,
        );
        if (outcome === "refused" && !ctx.live) {
          const hs = await ctx.handshake(`call_id=${call.callId}`, ctx.target.apiKey, path);
          ctx.emulatorOnly(
            `${path}: refused as an unknown call`,
            { status: 404, code: "call_id_not_found", param: "" },
            { status: hs.status, code: hs.json?.error?.code, param: hs.json?.error?.param },
          );
          ctx.emulatorOnly(
            `${path}: … with x-request-id`,
            true,
            REQUEST_ID.test(hs.headers.get("x-request-id") ?? ""),
          );
        }
      }
      for (const action of ["accept", "reject", "refer"]) {
        const r = await ctx.post(`/v1/realtime/calls/${call.callId}/${action}`, {});
        ctx.check(`${action} of a translation call`, 404, r.status, {
          source: "§2.6 [SDK: SIP calls; INFER]",
        });
      }
      const realtime = await ctx.post(`/v1/realtime/calls/${call.callId}/hangup`, {});
      const translations = await ctx.post(`${TRANSLATION_CALLS}/${call.callId}/hangup`, {});
      const hangs = options?.translationHangup ?? false;
      ctx.question(
        TRANSLATION_HANGUP,
        "hang-up on /v1/realtime/calls/{id}, then on /v1/realtime/translations/calls/{id}",
        hangs ? "200 404" : "404 404",
        `${realtime.status} ${translations.status}`,
      );
      if (!hangs) {
        ctx.emulatorOnly(
          "… the 404s",
          "404 call_not_found null, 404 call_not_found null",
          [
            errorOf(realtime),
            errorOf(translations),
          ].join(", "),
        );
      }
    },
  },
];
