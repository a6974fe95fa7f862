/**
 * fromProcess: the aliyun CLI External-mode output format, caching and refresh through the
 * engine, single-flight, and every failure path (with messages that never carry stdout or
 * a secret). Commands run `node` (process.execPath) so the tests are portable; the few that
 * need a POSIX shell feature are skipped on Windows.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, CredentialsProviderError } from '../src/errors.js';
import { fromProcess, type FromProcessOptions } from '../src/node/process.js';
import { failure } from './helpers.js';

const NODE = JSON.stringify(process.execPath);
const HELPER_PATH = fileURLToPath(new URL('./fixtures/process/helper.mjs', import.meta.url));
const HELPER = `${NODE} ${JSON.stringify(HELPER_PATH)}`;
const windows = process.platform === 'win32';

const KEY_ID = 'LTAI5tProcessTest0000001';
const SECRET = 'Zx9ProcSecret0123456789abcdEF';
const TOKEN = 'CAIS9ProcTokenQ0123456789abcdefGHIJKLMNOPqrstuv==';

let dir: string;
const opened: { close(): void }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alicred-process-'));
});
afterAll(async () => {
  for (const p of opened) p.close();
  await rm(dir, { recursive: true, force: true });
});

let seq = 0;
const tempFile = (name: string) => join(dir, `${name}-${++seq}`);
const runs = async (file: string) => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;

/** A provider running the helper fixture configured by `helperEnv`. */
function helper(helperEnv: Record<string, string>, extra: Partial<FromProcessOptions> = {}) {
  const provider = fromProcess({ command: HELPER, env: helperEnv, ...extra });
  opened.push(provider);
  return provider;
}

/** Runs `provider` and returns what it rejected with (fails if it resolved). */

/** Asserts that nothing printed from the error (message, inspect with causes) carries `needles`. */
function expectClean(error: unknown, ...needles: string[]) {
  const printed = [String(error), (error as Error).message, inspect(error, { depth: 5 }), JSON.stringify(error)].join('\n');
  for (const needle of needles) expect(printed).not.toContain(needle);
}

const json = (value: unknown) => JSON.stringify(value);
/** An instant `ms` from now, whole seconds (STS prints no milliseconds). */
const secondsFromNow = (ms: number) => new Date(Math.floor((Date.now() + ms) / 1000) * 1000);
/** `date` written in UTC+08:00, as a helper in China Standard Time might print it. */
const inUtcPlus8 = (date: Date) => new Date(date.getTime() + 8 * 3600_000).toISOString().replace(/\.\d{3}Z$/, '+08:00');

describe('fromProcess: output format', () => {
  it('reads mode AK printed by `node -e`', async () => {
    const script = `process.stdout.write(JSON.stringify({mode:'AK',access_key_id:'${KEY_ID}',access_key_secret:'${SECRET}'}))`;
    const provider = fromProcess({ command: `${NODE} -e ${JSON.stringify(script)}` });
    opened.push(provider);
    const creds = await provider();
    expect(creds.accessKeyId).toBe(KEY_ID);
    expect(creds.accessKeySecret).toBe(SECRET);
    expect(creds.securityToken).toBeUndefined();
    expect(creds.expiration).toBeUndefined();
    expect(creds.source).toBe('process');
    expect(inspect(creds)).not.toContain(SECRET);
    expect(provider.peek()).toBe(creds);
  });

  it('reads mode StsToken with a token and an expiration', async () => {
    const expiration = secondsFromNow(3600_000).toISOString().replace('.000Z', 'Z');
    const provider = helper({
      HELPER_STDOUT: json({ mode: 'StsToken', access_key_id: `STS.${KEY_ID}`, access_key_secret: SECRET, sts_token: TOKEN, expiration }),
    });
    const creds = await provider();
    expect(creds.accessKeyId).toBe(`STS.${KEY_ID}`);
    expect(creds.securityToken).toBe(TOKEN);
    expect(creds.expiration?.toISOString()).toBe(expiration.replace('Z', '.000Z'));
  });

  it('matches mode case-insensitively, infers it when absent, trims values and parses lenient expirations', async () => {
    const expiration = secondsFromNow(3600_000);
    const lower = await helper({
      HELPER_STDOUT: json({ mode: 'ststoken', access_key_id: ' STS.a ', access_key_secret: SECRET, sts_token: TOKEN, expiration: inUtcPlus8(expiration) }),
    })();
    expect(lower.accessKeyId).toBe('STS.a');
    expect(lower.securityToken).toBe(TOKEN);
    expect(lower.expiration?.getTime()).toBe(expiration.getTime());
    const inferredSts = await helper({ HELPER_STDOUT: json({ access_key_id: 'STS.b', access_key_secret: SECRET, sts_token: TOKEN }) })();
    expect(inferredSts.securityToken).toBe(TOKEN);
    const inferredAk = await helper({ HELPER_STDOUT: `\n${json({ access_key_id: KEY_ID, access_key_secret: SECRET, expiration: null })}\n` })();
    expect(inferredAk.securityToken).toBeUndefined();
    expect(inferredAk.expiration).toBeUndefined();
  });

  it('runs an argv array without a shell', async () => {
    const provider = fromProcess({
      command: [process.execPath, HELPER_PATH],
      env: { HELPER_STDOUT: json({ mode: 'AK', access_key_id: KEY_ID, access_key_secret: SECRET }) },
    });
    opened.push(provider);
    expect((await provider()).accessKeyId).toBe(KEY_ID);
  });

  it('runs in cwd', async () => {
    const script = `process.stdout.write(JSON.stringify({mode:'AK',access_key_id:require('path').basename(process.cwd()),access_key_secret:'${SECRET}'}))`;
    const cwd = await mkdtemp(join(dir, 'cwd-'));
    const provider = fromProcess({ command: `${NODE} -e ${JSON.stringify(script)}`, cwd });
    opened.push(provider);
    expect((await provider()).accessKeyId).toBe(cwd.split(/[\\/]/).at(-1));
  });
});

describe('fromProcess: caching and refresh', () => {
  it('without an expiration runs the command once for many calls; forceRefresh runs it again', async () => {
    const count = tempFile('count');
    const provider = helper({
      HELPER_COUNT_FILE: count,
      HELPER_STDOUT: json({ mode: 'AK', access_key_id: `${KEY_ID}-{n}`, access_key_secret: SECRET }),
    });
    for (let i = 0; i < 10; i++) expect((await provider()).accessKeyId).toBe(`${KEY_ID}-1`);
    expect(await runs(count)).toBe(1);
    expect((await provider({ forceRefresh: true })).accessKeyId).toBe(`${KEY_ID}-2`);
    expect((await provider()).accessKeyId).toBe(`${KEY_ID}-2`);
    expect(await runs(count)).toBe(2);
  });

  it('concurrent callers share one run', async () => {
    const count = tempFile('count');
    const provider = helper({
      HELPER_COUNT_FILE: count,
      HELPER_SLEEP_MS: '300',
      HELPER_STDOUT: json({ mode: 'AK', access_key_id: `${KEY_ID}-{n}`, access_key_secret: SECRET }),
    });
    const all = await Promise.all(Array.from({ length: 25 }, () => provider()));
    expect(new Set(all.map((c) => c.accessKeyId))).toEqual(new Set([`${KEY_ID}-1`]));
    expect(await runs(count)).toBe(1);
  });

  it('with an expiration refreshes before it (injected clock)', async () => {
    const expiration = secondsFromNow(3600_000).getTime();
    let now = expiration - 20 * 60_000; // lifetime 20 min: advisory 10 min, mandatory 2 min before expiry
    const count = tempFile('count');
    const provider = helper(
      {
        HELPER_COUNT_FILE: count,
        HELPER_STDOUT: json({ mode: 'StsToken', access_key_id: 'STS.run-{n}', access_key_secret: SECRET, sts_token: TOKEN, expiration: new Date(expiration).toISOString() }),
      },
      { refresh: { clock: () => now, backgroundTimer: false } },
    );
    expect((await provider()).accessKeyId).toBe('STS.run-1');
    now += 5 * 60_000; // fresh
    expect((await provider()).accessKeyId).toBe('STS.run-1');
    expect(await runs(count)).toBe(1);
    now = expiration - 60_000; // inside the mandatory window: callers wait for a new run
    expect((await provider()).accessKeyId).toBe('STS.run-2');
    expect(await runs(count)).toBe(2);
  });

  it('with a short real expiration runs again once it comes near', async () => {
    const count = tempFile('count');
    const script =
      `const fs=require('fs');fs.appendFileSync(process.env.C,'run\\n');` +
      `const n=fs.readFileSync(process.env.C,'utf8').split('\\n').filter(Boolean).length;` +
      `process.stdout.write(JSON.stringify({mode:'StsToken',access_key_id:'STS.real-'+n,access_key_secret:'${SECRET}',sts_token:'${TOKEN}',expiration:new Date(Date.now()+3000).toISOString()}))`;
    const provider = fromProcess({
      command: `${NODE} -e ${JSON.stringify(script)}`,
      env: { C: count },
      refresh: { advisoryWindowMs: 2000, mandatoryWindowMs: 2000, backgroundTimer: false },
    });
    opened.push(provider);
    expect((await provider()).accessKeyId).toBe('STS.real-1');
    expect((await provider()).accessKeyId).toBe('STS.real-1');
    await new Promise((r) => setTimeout(r, 1_100));
    expect(provider.peek()).toBeUndefined();
    expect((await provider()).accessKeyId).toBe('STS.real-2');
    expect(await runs(count)).toBe(2);
  });

  it('an already expired expiration is refused', async () => {
    const provider = helper({
      HELPER_STDOUT: json({ mode: 'StsToken', access_key_id: 'STS.old', access_key_secret: SECRET, sts_token: TOKEN, expiration: '2001-01-01T00:00:00Z' }),
    });
    const error = await failure(provider);
    expect(error.code).toBe('ExpiredCredentials');
    expectClean(error, SECRET, TOKEN);
  });
});

describe('fromProcess: failures', () => {
  const STDOUT_MARKER = 'stdout-marker-do-not-echo';

  it('a non-zero exit names the program and code, shows no stdout and redacts secrets in stderr', async () => {
    const count = tempFile('count');
    const provider = helper({
      HELPER_COUNT_FILE: count,
      HELPER_STDOUT: json({ mode: 'AK', access_key_id: KEY_ID, access_key_secret: SECRET, note: STDOUT_MARKER }),
      HELPER_STDERR: `vault: permission denied for role app\nsecret=hunter2 token: ${TOKEN} raw ${SECRET}\n{"access_key_secret":"shortpw"} Bearer abc.def\n`,
      HELPER_EXIT: '3',
    });
    const error = await failure(provider);
    expect(error).toBeInstanceOf(CredentialsProviderError);
    expect(error).not.toBeInstanceOf(ConfigError);
    expect(error.code).toBe('ProcessFailed');
    expect(error.retryable).toBe(false);
    expect((error as CredentialsProviderError).tryNext).toBe(false);
    expect(error.message).toContain(process.execPath);
    expect(error.message).toContain('exited with code 3');
    expect(error.message).toContain('vault: permission denied for role app');
    expect(error.message).not.toContain(HELPER_PATH); // arguments are not shown
    expectClean(error, SECRET, TOKEN, 'hunter2', 'shortpw', 'abc.def', STDOUT_MARKER, KEY_ID);
    expect(await runs(count)).toBe(1); // not retried
  });

  it('names the program, not leading NAME=value assignments nor arguments', async () => {
    const provider = fromProcess({ command: `VAULT_TOKEN=${SECRET} ${NODE} -e "process.exit(4)" -- --password ${SECRET}`, env: {} });
    opened.push(provider);
    const error = await failure(provider);
    expect(error.message).toContain(`${process.execPath} exited with code 4`);
    expectClean(error, SECRET, 'VAULT_TOKEN', 'password');
  });

  it('an unknown program is a failed run (shell) or a spawn failure (argv)', async () => {
    const viaShell = fromProcess({ command: 'alicred-no-such-helper-xyz --flag', env: { PATH: dir } });
    opened.push(viaShell);
    const shellError = await failure(viaShell);
    expect(shellError.code).toBe('ProcessFailed');
    if (!windows) expect(shellError.message).toContain('alicred-no-such-helper-xyz exited with code 127 (command not found?)');

    const viaArgv = fromProcess({ command: [join(dir, 'alicred-no-such-helper-xyz'), '--flag'] });
    opened.push(viaArgv);
    const argvError = await failure(viaArgv);
    expect(argvError.code).toBe('ProcessSpawnFailed');
    expect(argvError.message).toContain('(ENOENT');
  });

  it('bad JSON is a ConfigError that does not echo stdout', async () => {
    const error = await failure(helper({ HELPER_STDOUT: `{"access_key_id": "${KEY_ID}", "access_key_secret": "${SECRET}", oops ${STDOUT_MARKER}` }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('stdout');
    expect(error.message).toMatch(/not valid JSON/);
    expectClean(error, SECRET, KEY_ID, STDOUT_MARKER);
    expect(error.cause).toBeUndefined(); // JSON.parse's error quotes the input
  });

  it('empty output and non-object JSON are ConfigErrors', async () => {
    const empty = await failure(helper({ HELPER_STDOUT: '  \n' }));
    expect(empty).toBeInstanceOf(ConfigError);
    expect(empty.message).toMatch(/is empty/);
    const array = await failure(helper({ HELPER_STDOUT: json([SECRET]) }));
    expect(array).toBeInstanceOf(ConfigError);
    expect(array.message).toMatch(/not a JSON object/);
    expectClean(array, SECRET);
  });

  it('a missing or mistyped field is a ConfigError naming it', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ mode: 'AK', access_key_id: KEY_ID }, 'access_key_secret'],
      [{ mode: 'AK', access_key_secret: SECRET }, 'access_key_id'],
      [{ mode: 'AK', access_key_id: '  ', access_key_secret: SECRET }, 'access_key_id'],
      [{ mode: 'StsToken', access_key_id: 'STS.x', access_key_secret: SECRET }, 'sts_token'],
      [{ mode: 'AK', access_key_id: KEY_ID, access_key_secret: 12345 }, 'access_key_secret'],
      [{ mode: 'AK', access_key_id: KEY_ID, access_key_secret: SECRET, expiration: 'next tuesday' }, 'expiration'],
      [{ mode: 'AK', access_key_id: KEY_ID, access_key_secret: SECRET, expiration: 1700000000 }, 'expiration'],
    ];
    for (const [output, field] of cases) {
      const error = await failure(helper({ HELPER_STDOUT: json({ ...output, marker: STDOUT_MARKER }) }));
      expect(error, field).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe(field);
      expect(error.message).toContain(field);
      expectClean(error, SECRET, STDOUT_MARKER, 'next tuesday');
    }
  });

  it('an unknown mode is a ConfigError; only known CLI mode names are echoed', async () => {
    const known = await failure(helper({ HELPER_STDOUT: json({ mode: 'RamRoleArn', access_key_id: KEY_ID, access_key_secret: SECRET }) }));
    expect(known).toBeInstanceOf(ConfigError);
    expect((known as ConfigError).field).toBe('mode');
    expect(known.message).toContain('unsupported mode RamRoleArn: expected AK or StsToken');
    const weird = await failure(helper({ HELPER_STDOUT: json({ mode: SECRET, access_key_id: KEY_ID, access_key_secret: 'x' }) }));
    expect((weird as ConfigError).field).toBe('mode');
    expectClean(weird, SECRET);
  });

  it.skipIf(windows)('a timeout fails fast with code Timeout and kills the whole process group', async () => {
    const pidFile = tempFile('pid');
    // `sleep` runs in the background of the shell: killing only the shell would leave it.
    const provider = fromProcess({
      command: `sleep 5 & echo $! > "${pidFile}"; wait`,
      timeoutMs: 200,
      env: { PATH: process.env.PATH },
    });
    opened.push(provider);
    const started = Date.now();
    const error = await failure(provider);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(CredentialsProviderError);
    expect(error.code).toBe('Timeout');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('sleep did not finish within 200 ms');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(pid).toBeGreaterThan(0);
    await waitFor(() => !isAlive(pid));
  });

  it('a timeout of plain `sleep 5`', async () => {
    const provider = fromProcess({ command: windows ? `${NODE} -e "setTimeout(()=>{},5000)"` : 'sleep 5', timeoutMs: 200, env: { PATH: process.env.PATH } });
    opened.push(provider);
    const started = Date.now();
    const error = await failure(provider);
    expect(error.code).toBe('Timeout');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a timed-out helper is killed and runs once per call (no retries)', async () => {
    const count = tempFile('count');
    const pidFile = tempFile('pid');
    const provider = helper({ HELPER_COUNT_FILE: count, HELPER_PID_FILE: pidFile, HELPER_SLEEP_MS: '10000' }, { timeoutMs: 1_000 });
    const error = await failure(provider);
    expect(error.code).toBe('Timeout');
    expect(await runs(count)).toBe(1);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await waitFor(() => !isAlive(pid));
  });

  it("the refresh engine's own deadline also kills the command", async () => {
    const pidFile = tempFile('pid');
    const provider = helper(
      { HELPER_PID_FILE: pidFile, HELPER_SLEEP_MS: '10000' },
      { timeoutMs: 10_000, refresh: { refreshTimeoutMs: 1_000, retry: false } },
    );
    const started = Date.now();
    const error = await failure(provider);
    expect(error.code).toBe('Timeout');
    expect(Date.now() - started).toBeLessThan(3_000);
    await waitFor(() => !isAlive(Number(readFileSync(pidFile, 'utf8'))));
  });

  it('stdout beyond maxOutputBytes kills the process and fails without echoing it', async () => {
    const pidFile = tempFile('pid');
    const provider = helper({ HELPER_PID_FILE: pidFile, HELPER_FLOOD_BYTES: String(10 * 1024 * 1024) }, { maxOutputBytes: 1024 });
    const error = await failure(provider);
    expect(error.code).toBe('OutputTooLarge');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('more than 1024 bytes');
    expectClean(error, 'xxxxxxxx');
    await waitFor(() => !isAlive(Number(readFileSync(pidFile, 'utf8'))));

    // Exactly at the limit is fine.
    const body = json({ mode: 'AK', access_key_id: KEY_ID, access_key_secret: SECRET });
    const ok = helper({ HELPER_STDOUT: body }, { maxOutputBytes: Buffer.byteLength(body) });
    expect((await ok()).accessKeyId).toBe(KEY_ID);
  });

  it('rejects bad options when built', () => {
    expect(() => fromProcess({ command: '  ' })).toThrow(ConfigError);
    expect(() => fromProcess({ command: [] })).toThrow(/command/);
    expect(() => fromProcess({ command: 'x', timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => fromProcess({ command: 'x', maxOutputBytes: -1 })).toThrow(/maxOutputBytes/);
  });

  it('a failed run after a good one keeps serving the cached credentials until forced', async () => {
    const flag = tempFile('flag');
    await writeFile(flag, 'ok');
    const script =
      `const fs=require('fs');if(fs.readFileSync(process.env.F,'utf8')!=='ok'){process.stderr.write('broken');process.exit(2)}` +
      `process.stdout.write(JSON.stringify({mode:'AK',access_key_id:'${KEY_ID}',access_key_secret:'${SECRET}'}))`;
    const provider = fromProcess({ command: `${NODE} -e ${JSON.stringify(script)}`, env: { F: flag } });
    opened.push(provider);
    await provider();
    await writeFile(flag, 'broken');
    expect((await provider()).accessKeyId).toBe(KEY_ID);
    const error = await failure(() => provider({ forceRefresh: true }));
    expect(error.message).toContain('exited with code 2; stderr (6 bytes, redacted): broken');
  });
});

/** True while `pid` runs (a zombie counts as gone). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX] /.test(stat);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT' && process.platform === 'linux') return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
