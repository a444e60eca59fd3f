import assert from "node:assert/strict";
import { DISCONNECT_GRACE_MS, STATUS_LABELS, statusAction } from "./call_status.js";

const connecting = { connected: false, watched: false };
const unwatched = { connected: true, watched: false };
const watched = { connected: true, watched: true };

Deno.test("statusAction() while connecting shows the step's label, or the state's", () => {
  assert.deepEqual(statusAction("microphone", connecting), {
    kind: "show",
    state: "starting",
    text: STATUS_LABELS.microphone,
  });
  const negotiating = statusAction("negotiating", connecting);
  assert.deepEqual(negotiating, { kind: "show", state: "starting", text: undefined });
  // A failing peer before the channel opened is connect()'s to report (it rejects).
  assert.equal(statusAction("failed", connecting).kind, "show");
});

Deno.test("statusAction() says when the server could not attach, at any point", () => {
  for (const call of [connecting, unwatched, watched]) {
    const action = statusAction("sideband_failed", call);
    assert.equal(action.kind, "message");
    assert.match(
      action.kind === "message" ? action.text : "",
      /^The server could not attach to this call: .+saves the final lines/,
    );
  }
});

Deno.test("statusAction() on a live call: the keeper's calls reconnect, others end or get a grace", () => {
  for (const status of ["failed", "disconnected"]) {
    assert.deepEqual(statusAction(status, watched), {
      kind: "show",
      state: "starting",
      text: "Reconnecting…",
    });
  }
  for (const status of ["closed", "failed", "ended"]) {
    assert.deepEqual(statusAction(status, unwatched), { kind: "end" });
  }
  assert.deepEqual(statusAction("closed", watched), { kind: "end" });
  assert.deepEqual(statusAction("connected", watched), { kind: "show", state: "live" });
  assert.deepEqual(statusAction("disconnected", unwatched), {
    kind: "grace",
    state: "starting",
    text: "Reconnecting…",
    graceMs: DISCONNECT_GRACE_MS,
  });
  assert.deepEqual(statusAction("connecting", watched), { kind: "none" });
});
