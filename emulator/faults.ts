/**
 * Fault injection state, driven by `POST /_emulator/faults`.
 *
 * @module
 */

/** REST endpoints that can be made to fail. */
export const FAULT_ENDPOINTS = [
  "client_secrets",
  "calls",
  "hangup",
  "accept",
  "reject",
  "refer",
  "sideband",
  "translation_client_secrets",
  "translation_calls",
] as const;

/** A REST endpoint name (or `*` for any). */
export type FaultEndpoint = typeof FAULT_ENDPOINTS[number] | "*";

/** One queued REST failure. */
export interface RestFailure {
  /** Which endpoint fails (`*` = any REST endpoint). */
  endpoint: FaultEndpoint;
  /** How many requests still fail. */
  count: number;
  /** HTTP status to answer. */
  status: number;
  /** JSON body; the string `"openai_empty_400"` selects OpenAI's all-empty envelope. */
  body?: unknown;
}

/** The mutable fault switches. */
export class Faults {
  /** Queued REST failures, consumed first-match. */
  rest: RestFailure[] = [];
  /** Added latency in ms before every REST answer. */
  latencyMs = 0;
  /** Refuse the next N sideband attaches with HTTP 404 `call_id_not_found`. */
  refuseSidebandAttaches = 0;
  /** When false, `Access-Control-Expose-Headers: Location` is left out. */
  exposeLocation = true;
  /** Deliver `completed` events out of order across items (pairwise swap). */
  outOfOrderCompleted = false;
  /** Fail the next N transcriptions with `…transcription.failed`. */
  failTranscriptions = 0;

  /** Takes a failure for `endpoint` if one is queued. */
  takeRestFailure(endpoint: FaultEndpoint): RestFailure | null {
    const f = this.rest.find((r) => r.count > 0 && (r.endpoint === endpoint || r.endpoint === "*"));
    if (!f) return null;
    f.count--;
    this.rest = this.rest.filter((r) => r.count > 0);
    return f;
  }

  /** Consumes one "fail the next transcription" token. */
  takeTranscriptionFailure(): boolean {
    if (this.failTranscriptions <= 0) return false;
    this.failTranscriptions--;
    return true;
  }

  /** Consumes one "refuse sideband attach" token. */
  takeSidebandRefusal(): boolean {
    if (this.refuseSidebandAttaches <= 0) return false;
    this.refuseSidebandAttaches--;
    return true;
  }

  /** Resets every switch. */
  clear(): void {
    this.rest = [];
    this.latencyMs = 0;
    this.refuseSidebandAttaches = 0;
    this.exposeLocation = true;
    this.outOfOrderCompleted = false;
    this.failTranscriptions = 0;
  }

  /** A JSON view for the control API. */
  toJSON(): Record<string, unknown> {
    return {
      rest: this.rest,
      latencyMs: this.latencyMs,
      refuseSidebandAttaches: this.refuseSidebandAttaches,
      exposeLocation: this.exposeLocation,
      outOfOrderCompleted: this.outOfOrderCompleted,
      failTranscriptions: this.failTranscriptions,
    };
  }
}
