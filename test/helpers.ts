/**
 * Helpers shared by the test files.
 */
import { expect } from 'vitest';
import { ConfigError, isCredentialsError, type CredentialsError } from '../src/index.js';

/**
 * The error a provider call (or any promise) rejects with; fails the test if it resolves, or
 * if what it rejects with is not an alicred error (every error alicred throws is one).
 */
export async function failure(call: Promise<unknown> | (() => Promise<unknown>)): Promise<CredentialsError> {
  const promise = typeof call === 'function' ? call() : call;
  const outcome = await promise.then(
    () => ({ resolved: true as const }),
    (error: unknown) => ({ resolved: false as const, error }),
  );
  if (outcome.resolved) throw new Error('expected a failure, but it resolved');
  expect(isCredentialsError(outcome.error), `not an alicred error: ${String(outcome.error)}`).toBe(true);
  return outcome.error as CredentialsError;
}

/** The ConfigError a synchronous call throws; fails the test if it throws nothing else. */
export function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

/**
 * Sends `requests()` (a batch of concurrent calls, each resolving true when the service
 * accepted it) every 40 ms for `ms`, noting the provider's current key after each batch: the
 * adapters' "across several refreshes, zero refused" runs.
 */
export async function acrossRefreshes(
  provider: { peek(): { accessKeyId: string } | undefined },
  ms: number,
  requests: (round: number) => Promise<boolean>[],
): Promise<{ ok: number; refused: number; keys: Set<string> }> {
  const keys = new Set<string>();
  let ok = 0;
  let refused = 0;
  const until = Date.now() + ms;
  for (let round = 1; Date.now() < until; round++) {
    for (const r of await Promise.allSettled(requests(round))) {
      if (r.status === 'fulfilled' && r.value) ok++;
      else refused++;
    }
    keys.add(provider.peek()?.accessKeyId ?? '');
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  return { ok, refused, keys };
}
