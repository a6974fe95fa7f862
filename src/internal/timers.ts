/**
 * Timer plumbing of the refresh engine: holding the process only while someone waits, and a
 * background timer that does not keep its provider alive.
 */

/** A timer's `ref`/`unref` where the runtime has them (Node, Bun, Deno); nothing elsewhere. */
export function setHold(handle: ReturnType<typeof setTimeout> | undefined, hold: boolean): void {
  const h = handle as { ref?: () => void; unref?: () => void } | undefined;
  if (hold) h?.ref?.();
  else h?.unref?.();
}

/**
 * A provider's background timer: the pending handle, and the provider's state held only
 * through a WeakRef, so a provider dropped without `close()` can be garbage-collected (its
 * finalizer then clears the handle). The box itself never reaches the state strongly.
 */
export type TimerBox = {
  handle: ReturnType<typeof setTimeout> | undefined;
  readonly target: { deref(): { onTimer(): void } | undefined };
};

/** The background timer's callback: into the provider's state, if it still exists. */
export function fireTimer(box: TimerBox): void {
  box.handle = undefined;
  box.target.deref()?.onTimer();
}

/** Clears the pending timer of a provider that was collected (where FinalizationRegistry exists). */
export const collectedTimers: FinalizationRegistry<TimerBox> | undefined =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry((box) => {
        if (box.handle !== undefined) clearTimeout(box.handle);
      })
    : undefined;
