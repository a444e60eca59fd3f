// @ts-check
/**
 * Microphone analysis on the page: the input level meter and the page's own voice-activity
 * detection (`vad-worklet.js`), which ends turns for models without server VAD.
 *
 * @module
 */

/**
 * A speech boundary from the page's VAD. `atMs` is ms since {@linkcode startAudio} resolved
 * (session-relative, like the API's `audio_start_ms`, up to the connection set-up offset);
 * `wallMs` is the matching `performance.now()`. An end has a `reason`: `"silence"`, or
 * `"max_length"` when a long turn was cut in a pause (a new turn may start at once).
 *
 * @typedef {{ speaking: boolean, atMs: number, wallMs: number,
 *   reason?: "silence" | "max_length" }} SpeechEdge
 */

/**
 * Starts level metering and VAD on a microphone stream.
 *
 * @param {{ stream: MediaStream, silenceMs?: number, onLevel?: (level: number) => void,
 *   onSpeech?: (edge: SpeechEdge) => void }} options
 * @returns {Promise<{ setSilence(ms: number): void, lastSpeechWall(): number|null,
 *   stop(): Promise<void> }>}
 */
export async function startAudio(
  { stream, silenceMs = 700, onLevel, onSpeech },
) {
  const context = new AudioContext({ latencyHint: "interactive" });
  if (context.state === "suspended") await context.resume().catch(() => {});
  await context.audioWorklet.addModule(
    new URL("./vad-worklet.js", import.meta.url),
  );
  const source = context.createMediaStreamSource(stream);
  const node = new AudioWorkletNode(context, "vad", {
    numberOfInputs: 1,
    numberOfOutputs: 1,
    channelCount: 1,
    channelCountMode: "explicit",
    processorOptions: { silenceMs },
  });
  // A muted sink keeps the graph pulled without playing the microphone back.
  const sink = context.createGain();
  sink.gain.value = 0;
  source.connect(node).connect(sink).connect(context.destination);
  const originCtxMs = context.currentTime * 1000;
  const originWall = performance.now();
  /** @type {number|null} */
  let lastSpeechWall = null;
  node.port.onmessage = (ev) => {
    const m = ev.data;
    if (m?.type === "level") {
      if (typeof m.lastSpeechMs === "number") {
        lastSpeechWall = originWall + Math.max(0, m.lastSpeechMs - originCtxMs);
      }
      onLevel?.(m.level);
    } else if (m?.type === "speech") {
      const atMs = Math.max(0, m.atMs - originCtxMs);
      const edge = { speaking: Boolean(m.speaking), atMs, wallMs: originWall + atMs };
      onSpeech?.(m.speaking ? edge : { ...edge, reason: m.reason ?? "silence" });
    }
  };
  return {
    lastSpeechWall: () => lastSpeechWall,
    setSilence(ms) {
      node.port.postMessage({ silenceMs: ms });
    },
    async stop() {
      node.port.onmessage = null;
      source.disconnect();
      node.disconnect();
      await context.close().catch(() => {});
      onLevel?.(0);
    },
  };
}
