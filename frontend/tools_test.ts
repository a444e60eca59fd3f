import assert from "node:assert/strict";
import { shortcutOf } from "./tools.js";

const key = (k: string, code: string, mods: Partial<Record<string, boolean>> = {}) => ({
  key: k,
  code,
  altKey: false,
  shiftKey: false,
  ctrlKey: false,
  metaKey: false,
  ...mods,
});

Deno.test("letter shortcuts need Alt+Shift and never fire from a focused control", () => {
  assert.equal(shortcutOf(key("s", "KeyS"), false), null, "a single letter does nothing");
  assert.equal(shortcutOf(key("S", "KeyS", { shiftKey: true }), false), null);
  assert.equal(shortcutOf(key("ß", "KeyS", { altKey: true }), false), null);
  assert.equal(shortcutOf(key("S", "KeyS", { altKey: true, shiftKey: true }), false), "s");
  // macOS: Option+Shift+F types "Ï"; the physical key still counts.
  assert.equal(shortcutOf(key("Ï", "KeyF", { altKey: true, shiftKey: true }), false), "f");
  assert.equal(
    shortcutOf(key("S", "KeyS", { altKey: true, shiftKey: true, ctrlKey: true }), false),
    null,
  );
  for (const k of [key("S", "KeyS", { altKey: true, shiftKey: true }), key("Enter", "Enter")]) {
    assert.equal(shortcutOf(k, true), null, `${k.key} on a control keeps the control's meaning`);
  }
  assert.equal(shortcutOf(key("Enter", "Enter"), false), "enter");
  assert.equal(shortcutOf(key("Escape", "Escape"), true), "escape");
  assert.equal(shortcutOf(key("1", "Digit1", { altKey: true, shiftKey: true }), false), null);
});
