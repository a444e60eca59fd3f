import assert from "node:assert/strict";
import { createFollower } from "./follow_live.js";

/** A scroller with a content height, a view height and the events a follower listens to. */
function fakeScroller(content: number, view: number) {
  const listeners = new Map<string, (ev: unknown) => void>();
  let top = 0;
  const s = {
    content,
    view,
    get scrollTop() {
      return top;
    },
    set scrollTop(v: number) {
      const next = Math.max(0, Math.min(v, s.content - s.view));
      if (next === top) return;
      top = next;
      listeners.get("scroll")?.({});
    },
    get scrollHeight() {
      return s.content;
    },
    get clientHeight() {
      return s.view;
    },
    addEventListener(type: string, fn: (ev: unknown) => void) {
      listeners.set(type, fn);
    },
    removeEventListener(type: string) {
      listeners.delete(type);
    },
    fire(type: string, ev: unknown = {}) {
      listeners.get(type)?.(ev);
    },
    /** The layout moved the view without a reader (e.g. caption mode clamped scrollTop). */
    clamp(v: number) {
      top = v;
      listeners.get("scroll")?.({});
    },
    listeners,
  };
  return s;
}

Deno.test("a follower keeps the newest line in view as lines arrive", () => {
  const s = fakeScroller(1000, 200);
  const f = createFollower(s);
  s.content = 1500;
  f.added(1);
  assert.equal(s.scrollTop, 1300);
  assert.equal(f.following, true);
  assert.equal(f.unseen, 0);
});

Deno.test("a layout change that moves the view is undone while following", () => {
  const s = fakeScroller(1000, 200);
  const f = createFollower(s);
  f.added(0);
  assert.equal(s.scrollTop, 800);
  s.content = 3000; // caption mode: bigger text
  s.clamp(800);
  assert.equal(s.scrollTop, 2800);
  assert.equal(f.following, true);
});

Deno.test("the reader scrolling up stops following and counts new lines", () => {
  const s = fakeScroller(1000, 200);
  const states: unknown[] = [];
  const f = createFollower(s, { onChange: (st) => states.push(st) });
  f.added(0);
  s.fire("wheel");
  s.scrollTop = 300;
  assert.equal(f.following, false);
  s.content = 1100;
  f.added(1);
  f.added(2);
  assert.equal(s.scrollTop, 300, "the reader's place is kept");
  assert.equal(f.unseen, 3);
  f.jumpToLive();
  assert.equal(s.scrollTop, 900);
  assert.equal(f.following, true);
  assert.equal(f.unseen, 0);
  assert.deepEqual(states, [
    { following: false, unseen: 0 },
    { following: false, unseen: 1 },
    { following: false, unseen: 3 },
    { following: true, unseen: 0 },
  ]);
});

Deno.test("scrolling back to the bottom follows again; only scrolling keys count as intent", () => {
  const s = fakeScroller(1000, 200);
  const f = createFollower(s);
  f.added(0);
  s.fire("keydown", { key: "a" });
  s.clamp(100);
  assert.equal(f.following, true, "a key that does not scroll is no intent");
  s.fire("keydown", { key: "PageUp" });
  s.scrollTop = 500;
  assert.equal(f.following, false);
  s.scrollTop = 790;
  assert.equal(f.following, true);
  // Back at the bottom the intent is spent: a later layout move is undone again.
  s.content = 2000;
  s.clamp(500);
  assert.equal(s.scrollTop, 1800);
  f.destroy();
  assert.equal(s.listeners.size, 0);
});
