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
 * The background timer's callback. It holds the provider's state only through a WeakRef,
 * so a provider dropped without `close()` can be garbage-collected; its timer then fires
 * once more into nothing.
 */
export function fireTimer(target: WeakRef<{ onTimer(): void }> | { deref(): { onTimer(): void } | undefined }): void {
  target.deref()?.onTimer();
}

/** Clears the pending timer of a provider that was collected (where FinalizationRegistry exists). */
export const collectedTimers: FinalizationRegistry<{ handle: ReturnType<typeof setTimeout> | undefined }> | undefined =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry((box) => {
        if (box.handle !== undefined) clearTimeout(box.handle);
      })
    : undefined;
