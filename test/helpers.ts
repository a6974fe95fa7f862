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
