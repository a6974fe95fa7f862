/**
 * Debug diagnostics: the chain and the refresh engine trace what they do through
 * `logger.debug` (skipped and why, tried, answered; refreshes, retries, backoff), never with
 * a secret; alicred/node turns them on from ALICRED_DEBUG / DEBUG (to stderr), the
 * universal entry reads no environment for it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { chain, createChain, CredentialsError, CredentialsProviderError, fromStatic, refreshing, type Logger } from '../src/index.js';
import { debugEnabled, debugLoggerFor } from '../src/node/debug.js';
import { defaultProvider, fromProcess } from '../src/node/index.js';
import { fakeCredentialSource } from '../src/testing/index.js';

const SECRET = 'Sup3rS3cretValue0123456789abcdef';

/** A logger that keeps its debug lines. */
function recorder(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, debug: (m: string) => void lines.push(m), warn: (m: string) => void lines.push(`WARN ${m}`) };
}

/** What process.stderr receives while `fn` runs. */
async function stderrOf(fn: () => Promise<unknown>): Promise<string> {
  let text = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  }) as typeof process.stderr.write);
  try {
    await fn();
  } finally {
    spy.mockRestore();
  }
  return text;
}

const notConfigured = (name: string) => async () => {
  throw new CredentialsProviderError(`${name}: not configured here`, { provider: name, tryNext: true });
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe('debugEnabled (alicred/node)', () => {
  it.each([
    [{ ALICRED_DEBUG: '1' }, true],
    [{ ALICRED_DEBUG: 'true' }, true],
    [{ ALICRED_DEBUG: '0', DEBUG: '*' }, false],
    [{ DEBUG: 'alicred' }, true],
    [{ DEBUG: 'alicred:*' }, true],
    [{ DEBUG: '*' }, true],
    [{ DEBUG: 'express, alicred' }, true],
    [{ DEBUG: 'express koa' }, false],
    [{ DEBUG: '*,-alicred' }, false],
    [{ DEBUG: 'alicred:*,-alicred:*' }, false],
    [{ DEBUG: 'alic*' }, true],
    [{ DEBUG: 'alicredx' }, false],
    [{}, false],
    [undefined, false],
  ])('%j -> %s', (env, on) => {
    expect(debugEnabled(env)).toBe(on);
  });
});

describe('debugLoggerFor', () => {
  it('keeps a logger that has debug, or any logger when debug is off', () => {
    const own = recorder();
    expect(debugLoggerFor(own, { ALICRED_DEBUG: '1' })).toBe(own);
    const warnOnly = { warn: () => {} };
    expect(debugLoggerFor(warnOnly, {})).toBe(warnOnly);
    expect(debugLoggerFor(undefined, {})).toBeUndefined();
  });

  it('adds debug (to stderr) to a logger without one, forwarding its own methods; one wrapper per logger', async () => {
    const warned: string[] = [];
    const warnOnly = { warn: (m: string) => void warned.push(m) };
    const wrapped = debugLoggerFor(warnOnly, { DEBUG: 'alicred' })!;
    expect(debugLoggerFor(warnOnly, { DEBUG: 'alicred' })).toBe(wrapped);
    wrapped.warn!('careful');
    expect(warned).toEqual(['careful']);
    expect(await stderrOf(async () => wrapped.debug!('hello'))).toMatch(/^\S+ debug hello\n$/);
  });
});

describe('chain: debug lines', () => {
  it('tried, skipped and why, answered; nothing secret', async () => {
    const logger = recorder();
    const provider = createChain([notConfigured('first'), fromStatic({ accessKeyId: 'LTAI5tDebug01', accessKeySecret: SECRET })], {
      name: 'dbg',
      linkNames: ['first', 'static'],
      rememberLastLink: true,
      logger,
    });
    await provider();
    await provider();
    expect(logger.lines).toEqual([
      'alicred: dbg chain: trying first',
      'alicred: dbg chain: first skipped: first: not configured here',
      'alicred: dbg chain: trying static',
      'alicred: dbg chain: static answered (source static, no expiration)',
      'alicred: dbg chain: asking static first (it answered last time)',
      'alicred: dbg chain: trying static',
      'alicred: dbg chain: static answered (source static, no expiration)',
    ]);
    expect(logger.lines.join('\n')).not.toContain(SECRET);
  });

  it("a failing link and the end of the chain; a foreign error's secret is not repeated", async () => {
    const logger = recorder();
    const leaky = async () => {
      throw new Error(`GET https://vault.example/v1/creds?token=${SECRET} failed with ${SECRET}`);
    };
    await expect(createChain([notConfigured('a'), leaky], { name: 'x', linkNames: ['a', 'leaky'], logger })()).rejects.toThrow();
    await expect(createChain([notConfigured('a')], { name: 'y', logger })()).rejects.toThrow();
    const text = logger.lines.join('\n');
    expect(text).toMatch(/x chain: leaky failed: GET https:\/\/vault\..*\?… failed with \[REDACTED\]/);
    expect(text).toContain('alicred: y chain: no link answered (1 tried)');
    expect(text).not.toContain(SECRET);
  });

  it('a logger without debug is never asked (and chain() takes none)', async () => {
    const warn = vi.fn();
    await createChain([notConfigured('a'), fromStatic({ accessKeyId: 'LTAI5tDebug02', accessKeySecret: SECRET })], { logger: { warn } })();
    expect(warn).not.toHaveBeenCalled();
  });
});

describe('refresh engine: debug lines', () => {
  it('refresh start, a retry with its wait, refreshed; a failed refresh with its backoff while the cache serves', async () => {
    const logger = recorder();
    const source = fakeCredentialSource({ lifetimeMs: 3_600_000, name: 'vault' });
    const provider = refreshing(source, { logger, retry: { retries: 2, minDelayMs: 1, maxDelayMs: 2 }, random: () => 0 });
    source.failNext(1);
    await provider();
    source.failAlways(new CredentialsError('vault: down', { code: 'NetworkError', retryable: false }));
    await expect(provider({ forceRefresh: true })).rejects.toThrow(/down/);
    provider.close();
    const text = logger.lines.filter((l) => !l.startsWith('WARN')).join('\n');
    expect(text).toMatch(/alicred: refreshing: refresh started \(cold\)/);
    expect(text).toMatch(/attempt 1 failed \(vault: simulated failure\); retrying in 1 ms/);
    expect(text).toMatch(/alicred: vault: refreshed: vault, key STS\.vaul…, expires \d{4}-/);
    expect(text).toMatch(/alicred: vault: refresh started \(forced\)/);
    expect(text).toMatch(/alicred: vault: refresh failed \(vault: down\); serving the cached value, next try in \d+(\.\d)? s/);
    // The credentials' secret and token never show.
    expect(text).not.toContain('secret-vault-');
    expect(text).not.toContain('token-vault-');
  });

  it('no debug method: no debug line is even built', async () => {
    const warn = vi.fn();
    const provider = refreshing(fakeCredentialSource(), { logger: { warn } });
    await provider();
    provider.close();
    expect(warn).not.toHaveBeenCalled();
  });
});

describe('where debug lines are switched on from the environment', () => {
  it('the universal entry reads no environment: chain() and refreshing() stay silent under ALICRED_DEBUG=1', async () => {
    vi.stubEnv('ALICRED_DEBUG', '1');
    vi.stubEnv('DEBUG', '*');
    const written = await stderrOf(async () => {
      const provider = chain(refreshing(fakeCredentialSource()));
      await provider();
      provider.close();
    });
    expect(written).toBe('');
    vi.unstubAllEnvs();
  });

  it('defaultProvider: ALICRED_DEBUG=1 in its env sends the chain to stderr; a given logger with debug gets it instead', async () => {
    const home = await mkdtemp(join(tmpdir(), 'alicred-debug-'));
    try {
      const env = { ALICRED_DEBUG: '1', ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true', ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI5tDebug03', ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET };
      const written = await stderrOf(async () => {
        const provider = defaultProvider({ env, homedir: home });
        await provider();
        provider.close();
      });
      expect(written).toMatch(/debug alicred: default chain: trying env\n.*debug alicred: default chain: env answered/);
      expect(written).not.toContain(SECRET);
      const logger = recorder();
      const quiet = await stderrOf(async () => {
        const provider = defaultProvider({ env, homedir: home, logger });
        await provider();
        provider.close();
      });
      expect(quiet).toBe('');
      expect(logger.lines).toContain('alicred: default chain: trying env');
      const off = await stderrOf(async () => {
        const provider = defaultProvider({ env: { ...env, ALICRED_DEBUG: undefined }, homedir: home });
        await provider();
        provider.close();
      });
      expect(off).toBe('');
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('Node sources made directly (fromProcess) trace their refreshes with DEBUG=alicred', async () => {
    const script = `console.log(JSON.stringify({mode:'StsToken',access_key_id:'STS.Dbg',access_key_secret:'${SECRET}',sts_token:'tok-${SECRET}',expiration:new Date(Date.now()+3600e3).toISOString()}))`;
    const written = await stderrOf(async () => {
      const provider = fromProcess({ command: [process.execPath, '-e', script], env: { PATH: process.env.PATH, DEBUG: 'alicred' } });
      const creds = await provider();
      expect(creds).toEqual(expect.objectContaining({ accessKeyId: 'STS.Dbg' }));
      provider.close();
    });
    expect(written).toMatch(/debug alicred: process .*: refresh started \(cold\)/);
    expect(written).toMatch(/refreshed: process/);
    expect(written).not.toContain(SECRET);
  });
});
