// @ts-check
/**
 * Following the speaker: a scrolling list stays on its newest line while "following", whatever
 * moves the layout (new lines, caption mode, resizes, zoom). Only the reader's own scrolling
 * (wheel, touch, keys, scrollbar) stops it; new lines then count as unseen until the reader is
 * back at the bottom or jumps there. It touches only the scroller's scroll members and events.
 *
 * @module
 */

/** Closer to the bottom than this (px) counts as at the bottom. */
export const AT_BOTTOM_PX = 48;

/** Keys that scroll a focused list. */
const SCROLL_KEYS = new Set(["ArrowUp", "ArrowDown", "PageUp", "PageDown", "Home", "End", " "]);

/**
 * @typedef {{ scrollTop: number, readonly scrollHeight: number, readonly clientHeight: number,
 *   addEventListener(type: string, fn: (ev: any) => void, options?: any): void,
 *   removeEventListener(type: string, fn: (ev: any) => void): void }} Scroller
 */

/**
 * @typedef {object} Follower
 * @property {boolean} following true while the newest line is kept in view
 * @property {number} unseen lines added while not following
 * @property {(n?: number) => void} added `n` new lines (0: a line changed or the layout moved)
 * @property {() => void} jumpToLive back to the newest line, following again
 * @property {() => void} destroy removes the listeners
 */

/**
 * Keeps `scroller` on its newest line while following.
 *
 * @param {Scroller} scroller
 * @param {{ onChange?: (state: { following: boolean, unseen: number }) => void,
 *   atBottomPx?: number }} [options] `onChange`: `following` or `unseen` changed
 * @returns {Follower}
 */
export function createFollower(scroller, options = {}) {
  const near = options.atBottomPx ?? AT_BOTTOM_PX;
  let following = true;
  let unseen = 0;
  // Without the reader's touch since the last stick, a scroll away is the layout's: undone.
  let intent = false;

  const atBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < near;
  const changed = () => options.onChange?.({ following, unseen });
  const stick = () => {
    intent = false;
    scroller.scrollTop = scroller.scrollHeight;
  };
  /** @param {boolean} on */
  const setFollowing = (on) => {
    if (on === following && (!on || unseen === 0)) return;
    following = on;
    if (on) unseen = 0;
    changed();
  };

  const onIntent = () => void (intent = true);
  /** @param {KeyboardEvent} ev */
  const onKey = (ev) => {
    if (SCROLL_KEYS.has(ev.key)) intent = true;
  };
  const onScroll = () => {
    if (atBottom()) {
      intent = false;
      return setFollowing(true);
    }
    if (following && !intent) return stick();
    setFollowing(false);
  };
  const listeners = /** @type {const} */ ([
    ["wheel", onIntent],
    ["touchstart", onIntent],
    ["pointerdown", onIntent],
    ["keydown", onKey],
    ["scroll", onScroll],
  ]);
  for (const [type, fn] of listeners) scroller.addEventListener(type, fn, { passive: true });

  return {
    get following() {
      return following;
    },
    get unseen() {
      return unseen;
    },
    added(n = 0) {
      if (following) return stick();
      if (n > 0) {
        unseen += n;
        changed();
      }
    },
    jumpToLive() {
      stick();
      setFollowing(true);
    },
    destroy() {
      for (const [type, fn] of listeners) scroller.removeEventListener(type, fn);
    },
  };
}

/**
 * Binds the "N new lines · Jump to live" button; returns the follower's `onChange`.
 *
 * @param {HTMLButtonElement} button
 * @param {() => Follower} follower
 * @param {() => void} [onJump]
 */
export function bindJumpButton(button, follower, onJump) {
  button.addEventListener("click", () => {
    follower().jumpToLive();
    onJump?.();
  });
  /** @param {{ following: boolean, unseen: number }} state */
  return (state) => {
    button.hidden = state.following || state.unseen === 0;
    const n = state.unseen;
    button.textContent = `${n} new line${n === 1 ? "" : "s"} · Jump to live`;
  };
}
