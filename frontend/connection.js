// @ts-check
/**
 * The browser's WebRTC connection to the Realtime API (Topology A, B as fallback):
 *
 * 1. microphone → `RTCPeerConnection`, data channel `oai-events` created before the offer;
 * 2. the offer goes to `session.realtimeUrl` with the ephemeral key (only `Authorization` and
 *    `Content-Type`, so the CORS preflight passes); the call id comes from `Location`;
 * 3. if `Location` cannot be read (CORS) the page relays a fresh offer through `POST /api/calls`,
 *    where the server creates the call with its own key. A session without a key (the server runs
 *    with `SIGNALING=relay`) goes to the relay at once: there is nothing to try directly;
 * 4. `POST /api/calls/:callId/sideband` (ticket) makes the server attach its sideband; it runs in
 *    parallel with ICE/DTLS, so there is no serial round trip to our server after the offer.
 *
 * `preminter.js` mints the session (ephemeral key) when Start is pressed; {@linkcode openMicrophone}
 * runs in parallel and its promise is passed as `stream`.
 *
 * @module
 */
import { ConnectionError, postJson, responseError } from "./api.js";
import { callIdFromLocation, isCallId } from "../shared/call_id.js";

/**
 * The `POST /api/session` response.
 * @typedef {object} SessionInfo
 * @property {string} sessionId
 * @property {string} ticket
 * @property {string | null} ephemeralKey Null when the server relays every offer
 *   (`SIGNALING=relay`).
 * @property {number} expiresAt Unix seconds by which the session must start its call (the key's
 *   expiry, or the server's start-by time when there is no key).
 * @property {string | null} realtimeUrl Where the SDP offer goes (`{base}/v1/realtime/calls`);
 *   null without a key.
 * @property {boolean} clientCommits True when this page must commit turns.
 * @property {string} model
 * @property {Record<string, unknown>} [settings]
 * @property {{ option: string, reason: string, learned: boolean }[]} [adjustments] Options the
 *   server left out because OpenAI refused them (each `reason` is a sentence for the person).
 */

/**
 * A live connection.
 * @typedef {object} Connection
 * @property {string} callId
 * @property {string} sessionId
 * @property {(event: Record<string, unknown>) => boolean} send Sends a client event on the data
 *   channel; false when the channel is not open.
 * @property {() => Promise<void>} stop Hangs up (server side), closes the peer and the microphone.
 * @property {RTCPeerConnection} pc
 * @property {RTCDataChannel} channel
 * @property {MediaStream} stream
 * @property {"direct" | "relay"} path How the SDP was exchanged.
 * @property {Promise<boolean>} sideband Resolves true once the server accepted the sideband.
 */

const RELAY_MEMO = "hello-transcription:relay-sdp";

/**
 * Opens the microphone (echo cancellation and noise suppression on; the model has its own).
 * @param {{ deviceId?: string }} [options]
 * @returns {Promise<MediaStream>}
 */
export function openMicrophone(options = {}) {
  return navigator.mediaDevices.getUserMedia({
    audio: {
      ...(options.deviceId ? { deviceId: { exact: options.deviceId } } : {}),
      echoCancellation: true,
      noiseSuppression: true,
      autoGainControl: true,
    },
  });
}

/**
 * Creates a peer with the mic track and the `oai-events` channel, and its offer.
 * @param {MediaStream} stream
 */
async function newPeer(stream) {
  const pc = new RTCPeerConnection();
  for (const track of stream.getAudioTracks()) pc.addTrack(track, stream);
  // Created before the offer so the SDP carries the SCTP application m-line.
  const channel = pc.createDataChannel("oai-events");
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  return { pc, channel, sdp: /** @type {string} */ (offer.sdp) };
}

/**
 * Connects a session. Resolves once the data channel is open; rejects (after releasing the
 * peer, the microphone it opened, and hanging up a created call) with a {@linkcode ConnectionError}.
 *
 * `onStatus` receives, in order: `microphone`, `negotiating`, `fallback` (a direct attempt gave
 * way to the relay; never for a session without a key, which relays from the start), then the
 * peer's `connectionState` values (`connecting`, `connected`, `disconnected` — which may recover —,
 * `failed`, `closed`), `connected` once the channel is open, `sideband_failed` (detail: the error)
 * if the server could not attach, and `ended` when the channel closes. Nothing is reported after
 * `stop()`.
 *
 * @param {{
 *   session: SessionInfo,
 *   deviceId?: string,
 *   stream?: MediaStream | Promise<MediaStream>,
 *   onEvent?: (event: Record<string, any>) => void,
 *   onStatus?: (status: string, detail?: unknown) => void,
 *   signal?: AbortSignal,
 *   fetch?: typeof fetch,
 *   openTimeoutMs?: number,
 * }} params
 * @returns {Promise<Connection>}
 */
export async function connect(params) {
  const { session } = params;
  const doFetch = params.fetch ?? globalThis.fetch;
  const status = params.onStatus ?? (() => {});
  const ownStream = !params.stream;
  status("microphone");
  const stream = await (params.stream ?? openMicrophone({ deviceId: params.deviceId }));
  /** @type {RTCPeerConnection | null} */
  let pc = null;
  let stopped = false;
  /** @type {Promise<void> | null} */
  let stopping = null;
  let callId = "";

  const release = () => {
    try {
      pc?.close();
    } catch { /* closed */ }
    if (ownStream) { for (const t of stream.getTracks()) t.stop(); }
  };

  try {
    params.signal?.throwIfAborted();
    status("negotiating");
    let peer = await newPeer(stream);
    pc = peer.pc;
    /** @type {"direct" | "relay"} */
    let path = "direct";
    let answer = "";
    let relayed = false;
    // No key: the server relays every offer (SIGNALING=relay), so a direct attempt cannot work.
    const direct = session.ephemeralKey && session.realtimeUrl
      ? { url: session.realtimeUrl, key: session.ephemeralKey }
      : null;
    const preferRelay = safeSession(() => sessionStorage.getItem(RELAY_MEMO) === "1");
    if (direct && !preferRelay) {
      let res = null;
      try {
        res = await doFetch(direct.url, {
          method: "POST",
          headers: {
            Authorization: `Bearer ${direct.key}`,
            "Content-Type": "application/sdp",
          },
          body: peer.sdp,
          signal: params.signal,
        });
      } catch (err) {
        if (err instanceof DOMException && err.name === "AbortError") throw err;
        res = null; // CORS or network: try the relay
      }
      if (res && !res.ok) {
        throw await responseError(res, "Creating the call at OpenAI");
      }
      if (res) {
        answer = await res.text();
        callId = callIdFromLocation(res.headers.get("Location")) ?? "";
        if (!callId) {
          // The call exists but its id is hidden from this page: drop it and relay instead.
          safeSession(() => sessionStorage.setItem(RELAY_MEMO, "1"));
          peer.pc.close();
          status("fallback");
          peer = await newPeer(stream);
          pc = peer.pc;
        }
      }
    }
    if (!callId) {
      path = "relay";
      const relay = await postJson("/api/calls", {
        sdp: peer.sdp,
        ticket: session.ticket,
      }, {
        signal: params.signal,
        fetch: doFetch,
      });
      answer = relay.sdp;
      callId = relay.callId;
      relayed = true;
      if (!isCallId(callId)) {
        throw new ConnectionError("The server sent no call id");
      }
    }
    await pc.setRemoteDescription({ type: "answer", sdp: answer });
    const channel = peer.channel;
    channel.onmessage = (msg) => {
      if (typeof msg.data !== "string") return;
      try {
        params.onEvent?.(JSON.parse(msg.data));
      } catch (err) {
        if (!(err instanceof SyntaxError)) throw err;
      }
    };

    // The server attaches its sideband while ICE/DTLS run (the relay already started it).
    const sideband = relayed ? Promise.resolve(true) : postJson(
      `/api/calls/${callId}/sideband`,
      { ticket: session.ticket },
      { fetch: doFetch },
    ).then(() => true, (err) => {
      status("sideband_failed", err);
      return false;
    });

    const livePc = pc;
    livePc.onconnectionstatechange = () => {
      if (!stopped) status(livePc.connectionState);
    };
    channel.onclose = () => {
      if (!stopped) status("ended");
    };

    await waitOpen(channel, params.openTimeoutMs ?? 20_000, params.signal);
    status("connected");

    const stop = () => {
      stopping ??= (async () => {
        stopped = true;
        await postJson(`/api/calls/${callId}/hangup`, {
          ticket: session.ticket,
        }, {
          keepalive: true,
          fetch: doFetch,
        }).catch(() => {/* the peer closing ends the call too */});
        release();
      })();
      return stopping;
    };
    params.signal?.addEventListener("abort", () => void stop(), { once: true });

    return {
      callId,
      sessionId: session.sessionId,
      send(event) {
        if (channel.readyState !== "open") return false;
        channel.send(JSON.stringify(event));
        return true;
      },
      stop,
      pc: livePc,
      channel,
      stream,
      path,
      sideband,
    };
  } catch (err) {
    stopped = true;
    if (callId) {
      void postJson(`/api/calls/${callId}/hangup`, { ticket: session.ticket }, {
        keepalive: true,
        fetch: doFetch,
      }).catch(() => {});
    }
    release();
    throw err;
  }
}

/**
 * @param {RTCDataChannel} channel
 * @param {number} timeoutMs
 * @param {AbortSignal} [signal]
 * @returns {Promise<void>}
 */
function waitOpen(channel, timeoutMs, signal) {
  if (channel.readyState === "open") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new ConnectionError(
          "The audio connection did not open (WebRTC/ICE failed)",
          {
            code: "webrtc_timeout",
          },
        ),
      );
    }, timeoutMs);
    const onOpen = () => {
      cleanup();
      resolve();
    };
    const onClose = () => {
      cleanup();
      reject(
        new ConnectionError("The audio connection closed while opening", {
          code: "webrtc_closed",
        }),
      );
    };
    const onAbort = () => {
      cleanup();
      reject(signal?.reason ?? new DOMException("Aborted", "AbortError"));
    };
    function cleanup() {
      clearTimeout(timer);
      channel.removeEventListener("open", onOpen);
      channel.removeEventListener("close", onClose);
      signal?.removeEventListener("abort", onAbort);
    }
    channel.addEventListener("open", onOpen);
    channel.addEventListener("close", onClose);
    signal?.addEventListener("abort", onAbort);
  });
}

/**
 * Runs a sessionStorage access that may throw (privacy modes); returns its value or false.
 * @template T
 * @param {() => T} fn
 * @returns {T | false}
 */
function safeSession(fn) {
  try {
    return fn();
  } catch {
    return false;
  }
}
