/**
 * The page's voice-activity detector as it was before `frontend/turn_detector.js`: the baseline of
 * the turn-detection benchmark, measured in the same run. A faithful copy of the old
 * `frontend/vad-worklet.js` frame logic (full-band energy on 20 ms frames; speech when above
 * -55 dBFS and 12 dB above a noise floor that follows dips at once and rises 5 dB/s; a turn starts
 * after 3 speech frames in a row and ends `silenceMs` after the last speech frame), without the
 * AudioWorklet around it. No maximum turn length.
 *
 * @module
 */

/** A boundary, in the shape `frontend/turn_detector.js` reports. */
export type LegacyEvent = { type: "start"; atMs: number } | { type: "end"; atMs: number };

const FRAME_MS = 20;
const ABSOLUTE_FLOOR_DB = -55;
const ABOVE_NOISE_DB = 12;
const START_FRAMES = 3;

/** The old page detector over a whole recording (samples in -1..1). */
export function legacyPageTurns(
  samples: Float32Array,
  sampleRate: number,
  silenceMs = 700,
): LegacyEvent[] {
  const frameSize = Math.round((sampleRate * FRAME_MS) / 1000);
  const events: LegacyEvent[] = [];
  let started = false;
  let noiseDb = -90;
  let run = 0;
  let speaking = false;
  let lastSpeechEndMs = 0;
  let firstSpeechMs = 0;
  let sum = 0;
  let count = 0;
  for (let i = 0; i < samples.length; i++) {
    sum += samples[i] * samples[i];
    if (++count < frameSize) continue;
    const endMs = ((i + 1) / sampleRate) * 1000;
    const db = 10 * Math.log10(sum / count + 1e-12);
    sum = 0;
    count = 0;
    const isSpeech = started && db > ABSOLUTE_FLOOR_DB && db > noiseDb + ABOVE_NOISE_DB;
    if (!started) {
      started = true;
      noiseDb = Math.max(db, -90);
    } else if (db < noiseDb) noiseDb = db;
    else noiseDb += 0.1;
    if (isSpeech) {
      if (run === 0) firstSpeechMs = endMs - FRAME_MS;
      run++;
      lastSpeechEndMs = endMs;
      if (!speaking && run >= START_FRAMES) {
        speaking = true;
        events.push({ type: "start", atMs: firstSpeechMs });
      }
    } else {
      run = 0;
      if (speaking && endMs - lastSpeechEndMs >= silenceMs) {
        speaking = false;
        events.push({ type: "end", atMs: lastSpeechEndMs });
      }
    }
  }
  return events;
}
