/**
 * Browser-side measuring for benchmarks, without touching the page's code:
 *
 * - {@linkcode PROBE_SCRIPT} is injected before any page script (Playwright init script). It notes,
 *   with the page's own clock (`performance.now()`): the click on `#start`; every data channel's
 *   `open`; each server event on the channels (first `session.updated`, each `completed` by
 *   item id); and, by a MutationObserver, when each utterance's line first shows as final with text.
 *   Its listeners are registered before the page's own, so event times are arrival times.
 * - {@linkcode startBarePage} serves the baseline page: a Start button that does only the WebRTC
 *   SDP exchange with the emulator using a pre-minted key (microphone, offer, POST, answer), for
 *   `count` peer connections at once.
 *
 * @module
 */

/** What the probe collected (read with `page.evaluate(() => globalThis.__bench)`). */
export interface ProbeData {
  click: number | null;
  /** `open` time of each data channel, in creation order. */
  opens: number[];
  /** First `session.updated` per channel. */
  updated: number[];
  /** `completed` arrival time by item id (first channel that saw it). */
  completed: Record<string, number>;
  /** Completed events per channel index. */
  completedPerChannel: number[];
  /** When each item's line first showed as final with text. */
  finalShown: Record<string, number>;
}

/** Injected before any page script; fills `globalThis.__bench` (see {@linkcode ProbeData}). */
export const PROBE_SCRIPT = `(() => {
  const b = globalThis.__bench = {
    click: null, opens: [], updated: [], completed: {}, completedPerChannel: [], finalShown: {},
  };
  document.addEventListener("click", (e) => {
    if (e.target instanceof Element && e.target.closest("#start")) b.click = performance.now();
  }, { capture: true });
  const create = RTCPeerConnection.prototype.createDataChannel;
  RTCPeerConnection.prototype.createDataChannel = function (...args) {
    const ch = create.apply(this, args);
    (globalThis.__benchChannels ??= []).push(ch);
    const index = b.completedPerChannel.length;
    b.completedPerChannel.push(0);
    let updated = false;
    ch.addEventListener("open", () => { b.opens.push(performance.now()); });
    ch.addEventListener("message", (m) => {
      const at = performance.now();
      if (typeof m.data !== "string") return;
      let ev;
      try { ev = JSON.parse(m.data); } catch { return; }
      if (ev.type === "session.updated" && !updated) { updated = true; b.updated.push(at); }
      if (ev.type === "conversation.item.input_audio_transcription.completed") {
        b.completedPerChannel[index]++;
        if (!(ev.item_id in b.completed)) b.completed[ev.item_id] = at;
      }
    });
    return ch;
  };
  const seen = (li) => {
    const id = li.dataset && li.dataset.itemId;
    if (!id || id in b.finalShown || !li.classList.contains("final")) return;
    const text = li.querySelector(".text");
    if (text && text.textContent && text.textContent.trim() !== "") b.finalShown[id] = performance.now();
  };
  const observer = new MutationObserver((records) => {
    for (const r of records) {
      const li = r.target instanceof Element ? r.target.closest("li[data-item-id]") : null;
      if (li) seen(li);
      for (const n of r.addedNodes) {
        if (n instanceof Element && n.matches("li[data-item-id]")) seen(n);
      }
    }
  });
  const watch = () => observer.observe(document.documentElement, {
    subtree: true, childList: true, attributes: true, attributeFilter: ["class"], characterData: true,
  });
  if (document.documentElement) watch(); else addEventListener("DOMContentLoaded", watch);
})();`;

const BARE_HTML = `<!doctype html>
<meta charset="utf-8"><title>bare</title>
<button id="start">Start</button>
<script type="module">
  // Set by the benchmark before the click: { realtimeUrl, key, count, micAfterOpen, parallel }.
  globalThis.bareConfig = null;
  globalThis.bareErrors = [];
  document.getElementById("start").addEventListener("click", async () => {
    const { realtimeUrl, key, count, micAfterOpen } = globalThis.bareConfig;
    // At most this many negotiations in flight (default: all at once).
    const parallel = globalThis.bareConfig.parallel ?? count;
    try {
      // micAfterOpen: negotiate every call with an empty audio sender first, then open the
      // microphone and attach its track (no renegotiation), so all calls hear the whole file.
      const stream = micAfterOpen ? null : await navigator.mediaDevices.getUserMedia({ audio: true });
      const senders = [];
      let started = 0;
      const one = async () => {
        const pc = new RTCPeerConnection();
        if (stream) for (const t of stream.getAudioTracks()) pc.addTrack(t, stream);
        else senders.push(pc.addTransceiver("audio", { direction: "sendonly" }).sender);
        pc.createDataChannel("oai-events");
        await pc.setLocalDescription(await pc.createOffer());
        const res = await fetch(realtimeUrl, {
          method: "POST",
          headers: { Authorization: "Bearer " + key, "Content-Type": "application/sdp" },
          body: pc.localDescription.sdp,
        });
        if (!res.ok) throw new Error("SDP exchange failed: " + res.status + " " + await res.text());
        await pc.setRemoteDescription({ type: "answer", sdp: await res.text() });
        (globalThis.peers ??= []).push(pc);
        if (parallel < count) {
          await new Promise((resolve) => {
            const timer = setInterval(() => {
              if (pc.connectionState === "connected" || pc.connectionState === "failed") {
                clearInterval(timer);
                resolve();
              }
            }, 10);
          });
        }
      };
      await Promise.all(Array.from({ length: Math.min(parallel, count) }, async () => {
        while (started < count) {
          started++;
          await one();
        }
      }));
      globalThis.startMic = async () => {
        const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
        const [track] = mic.getAudioTracks();
        await Promise.all(senders.map((s) => s.replaceTrack(track)));
      };
    } catch (err) {
      globalThis.bareErrors.push(String(err));
    }
  });
</script>`;

/** A running bare page server. */
export interface BarePage {
  url: string;
  close: () => Promise<void>;
}

/** Serves the baseline page on loopback (a secure context, so the microphone works). */
export async function startBarePage(): Promise<BarePage> {
  const { promise, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    {
      hostname: "127.0.0.1",
      port: 0,
      onListen: (a) => resolve(a as Deno.NetAddr),
    },
    () =>
      new Response(BARE_HTML, {
        headers: { "content-type": "text/html; charset=utf-8" },
      }),
  );
  const addr = await promise;
  return {
    url: `http://127.0.0.1:${addr.port}/`,
    close: () => server.shutdown(),
  };
}

/** Mints an ephemeral key for the bare page (outside any timing), like the app's preminter. */
export async function mintKey(
  emu: { baseUrl: string; apiKey: string },
  session: Record<string, unknown> = {},
): Promise<string> {
  const res = await fetch(`${emu.baseUrl}/v1/realtime/client_secrets`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${emu.apiKey}`,
    },
    body: JSON.stringify({
      expires_after: { anchor: "created_at", seconds: 600 },
      session: {
        type: "transcription",
        audio: {
          input: {
            transcription: { model: "gpt-transcribe" },
            turn_detection: { type: "server_vad" },
          },
        },
        ...session,
      },
    }),
  });
  const body = await res.json() as { value?: string };
  if (!res.ok || !body.value) {
    throw new Error(`Minting a key failed: ${res.status}`);
  }
  return body.value;
}
