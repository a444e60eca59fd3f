// @ts-check
/**
 * One WebRTC call to the Realtime Translation API for one output language, from the same
 * microphone track as the transcription call: the track goes out, translated speech comes back
 * on an audio track (the page keeps it muted until the person plays it), and the `oai-events`
 * channel carries `session.output_transcript.delta` (and `session.input_transcript.delta`).
 *
 * The offer goes straight to OpenAI with the language's ephemeral key (raw SDP: the translation
 * calls endpoint takes no multipart form); without a usable key (`SIGNALING=relay`, an expired
 * key on Retry, or CORS hiding the answer) it goes through our relay
 * (`POST /api/calls/translation?lang=…`), where the server mints a key and posts it. A translation
 * call takes no sideband: the page posts the text to the server (`translations.js`).
 *
 * @module
 */
import { ConnectionError, postJson, responseError } from "./api.js";

/**
 * One language of the `POST /api/session` answer (`lib/translations.ts` `TranslationTarget`).
 *
 * @typedef {{ language: string, name: string, ephemeralKey: string|null, url: string|null,
 *   relayUrl: string, expiresAt: number|null }} TranslationTarget
 */

/**
 * A live translation call.
 *
 * @typedef {object} TranslationCall
 * @property {string} language
 * @property {"direct"|"relay"} path
 * @property {Promise<MediaStream>} speech the translated speech (resolves on the first track)
 * @property {() => Promise<void>} stop closes the peer (the call ends with it)
 * @property {RTCPeerConnection} pc
 */

/**
 * Connects one translation call; resolves once its channel is open.
 *
 * `onStatus` gets the peer's `connectionState` values and `ended` when the channel closes
 * (nothing after `stop()`).
 *
 * @param {{
 *   target: TranslationTarget,
 *   ticket: string,
 *   stream: MediaStream,
 *   onEvent: (event: Record<string, any>) => void,
 *   onStatus?: (status: string) => void,
 *   preferRelay?: boolean,
 *   fetch?: typeof fetch,
 *   now?: () => number,
 *   openTimeoutMs?: number,
 * }} params
 * @returns {Promise<TranslationCall>}
 */
export async function connectTranslation(params) {
  const { target } = params;
  const doFetch = params.fetch ?? globalThis.fetch;
  const now = params.now ?? Date.now;
  const status = params.onStatus ?? (() => {});
  let stopped = false;
  let peer = newPeer(params.stream);
  try {
    let answer = "";
    /** @type {"direct"|"relay"} */
    let path = "relay";
    const keyValid = target.ephemeralKey && target.url &&
      (target.expiresAt === null || target.expiresAt * 1000 > now() + 2000);
    if (keyValid && !params.preferRelay) {
      const offer = await peer.offer;
      /** @type {Response|null} */
      let res = null;
      try {
        res = await doFetch(/** @type {string} */ (target.url), {
          method: "POST",
          headers: {
            Authorization: `Bearer ${target.ephemeralKey}`,
            "Content-Type": "application/sdp",
          },
          body: offer,
        });
      } catch {
        res = null; // CORS or network: the relay
      }
      if (res && !res.ok) throw await responseError(res, `Starting the ${target.name} translation`);
      if (res) {
        answer = await res.text();
        path = "direct";
      } else {
        peer.pc.close();
        peer = newPeer(params.stream);
      }
    }
    if (!answer) {
      const relay = await postJson(target.relayUrl, {
        ticket: params.ticket,
        sdp: await peer.offer,
      }, {
        fetch: doFetch,
      });
      answer = String(relay?.sdp ?? "");
      if (!answer.startsWith("v=")) throw new ConnectionError("The relay sent no SDP answer");
    }
    const { pc, channel } = peer;
    await pc.setRemoteDescription({ type: "answer", sdp: answer });
    channel.onmessage = (msg) => {
      if (typeof msg.data !== "string") return;
      try {
        params.onEvent(JSON.parse(msg.data));
      } catch (err) {
        if (!(err instanceof SyntaxError)) throw err;
      }
    };
    pc.onconnectionstatechange = () => {
      if (!stopped) status(pc.connectionState);
    };
    await waitOpen(channel, params.openTimeoutMs ?? 20_000);
    channel.onclose = () => {
      if (!stopped) status("ended");
    };
    return {
      language: target.language,
      path,
      speech: peer.speech,
      pc,
      stop() {
        stopped = true;
        try {
          pc.close();
        } catch { /* closed */ }
        return Promise.resolve();
      },
    };
  } catch (err) {
    stopped = true;
    peer.pc.close();
    throw err;
  }
}

/** @param {MediaStream} stream */
function newPeer(stream) {
  const pc = new RTCPeerConnection();
  for (const track of stream.getAudioTracks()) pc.addTrack(track, stream);
  const channel = pc.createDataChannel("oai-events");
  /** @type {Promise<MediaStream>} */
  const speech = new Promise((resolve) => {
    pc.ontrack = (ev) => resolve(ev.streams[0] ?? new MediaStream([ev.track]));
  });
  const offer = pc.createOffer().then(async (o) => {
    await pc.setLocalDescription(o);
    return /** @type {string} */ (o.sdp);
  });
  return { pc, channel, speech, offer };
}

/**
 * @param {RTCDataChannel} channel
 * @param {number} timeoutMs
 * @returns {Promise<void>}
 */
function waitOpen(channel, timeoutMs) {
  if (channel.readyState === "open") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      done();
      reject(new ConnectionError("The translation call did not open", { code: "webrtc_timeout" }));
    }, timeoutMs);
    const onOpen = () => {
      done();
      resolve();
    };
    const onClose = () => {
      done();
      reject(new ConnectionError("The translation call closed while opening"));
    };
    function done() {
      clearTimeout(timer);
      channel.removeEventListener("open", onOpen);
      channel.removeEventListener("close", onClose);
    }
    channel.addEventListener("open", onOpen);
    channel.addEventListener("close", onClose);
  });
}
