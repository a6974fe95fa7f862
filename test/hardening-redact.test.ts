/**
 * Hardening of free-text redaction (src/internal/redact-text.ts) and of what fromProcess
 * quotes from a helper's stderr: values after secret words whatever their alphabet, long
 * key-like runs, while paths, ARNs, request ids and prose stay readable; bounded and linear
 * on adversarial input. Also fromProcess's 12 h lifetime ceiling.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { REDACTED, redactText } from '../src/internal/redact-text.js';
import { fromProcess, type FromProcessOptions } from '../src/node/process.js';
import { failure } from './helpers.js';

const R = REDACTED;

describe('redactText: table of inputs and outputs', () => {
  // [input, expected output]
  const table: [string, string][] = [
    // Values after secret words, whatever their alphabet (16+ characters without `:`/`=`).
    ['secret is abcdefghijklmnopqrstuvwxyzABCD', `secret is ${R}`],
    ['Secret was ABCDEFGHIJKLMNOPQRSTUVWXYZ', `Secret was ${R}`],
    ['AccessKeySecret abcdefghijklmnopqrstuvwxyz', `AccessKeySecret ${R}`],
    ['AccessKeySecret "abcdefghijklmnopqrstuvwxyz"', `AccessKeySecret "${R}"`],
    ['SecurityToken 12345678901234567890', `SecurityToken ${R}`],
    ['sts_token is abc-def_ghi-jkl_mno-pqr', `sts_token is ${R}`],
    ['password is 0123456789012345', `password is ${R}`],
    ['--password abcdefghijklmnopqrstuvwxyz', `--password ${R}`],
    ['the key: abcdefghijklmnopqrstuvwxyz+/==', `the key: ${R}`],
    ['x-api-key abcdefghijklmnopqrstuvwxyz', `x-api-key ${R}`],
    ['token: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', `token: ${R}`],
    // Assignments: any length, up to whitespace or a quote.
    ['secret=hunter2', `secret=${R}`],
    ['passwd: hunter2 next', `passwd: ${R} next`],
    ['access_key_secret = 12345678901234567890', `access_key_secret = ${R}`],
    ['{"access_key_secret":"shortpw","code":"Denied"}', `{"access_key_secret":"${R}","code":"Denied"}`],
    ['{"SecurityToken": "CAISabc+/def==", "RequestId": "8F1C2A3B-1234-5678-9ABC-DEF012345678"}',
      `{"SecurityToken": "${R}", "RequestId": "8F1C2A3B-1234-5678-9ABC-DEF012345678"}`],
    ["pwd='p4ss'", `pwd='${R}'`],
    ['Authorization: Bearer abc.def', `Authorization: Bearer ${R}`],
    ['Bearer abc.def', `Bearer ${R}`],
    // Long runs that mix letters and digits, anywhere.
    ['raw LTAI5tProcessTest0000001 here', `raw ${R} here`],
    ['STS.NUx9AbCdEfGh12345678 issued', `STS.${R} issued`],
    ['eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0xyzabcdefgh.c2lnabcdefghijklmnop12', `${R}.${R}.${R}`],
    ['x=Zx9ProcSecret0123456789abcdEF', `x=${R}`],
    ['/tmp/LTAI5tProcessTest0000001/x', `/tmp/${R}/x`],
    ['oidc_token_file=/var/run/secrets/tokens/token1234567890abcdef', `oidc_token_file=/var/run/secrets/tokens/${R}`],
    // Readable: paths, ARNs, request ids, host names, times, prose, numbers.
    ['cannot read /home/u/.aliyun/config.json', 'cannot read /home/u/.aliyun/config.json'],
    ['cannot read /home/user123/projects/app2/creds.json', 'cannot read /home/user123/projects/app2/creds.json'],
    ['token file /var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token missing',
      'token file /var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token missing'],
    ['oidc_token_file=/var/run/secrets/ack/token', 'oidc_token_file=/var/run/secrets/ack/token'],
    ['AssumeRole acs:ram::123456789012:role/x denied', 'AssumeRole acs:ram::123456789012:role/x denied'],
    ['acs:ram::1234567890123456:role/iot-operator-2024', 'acs:ram::1234567890123456:role/iot-operator-2024'],
    ['acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1', 'acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1'],
    ['RequestId: 8F1C2A3B-1234-5678-9ABC-DEF012345678', 'RequestId: 8F1C2A3B-1234-5678-9ABC-DEF012345678'],
    ['request id 8f1c2a3b-1234-5678-9abc-def012345678 failed', 'request id 8f1c2a3b-1234-5678-9abc-def012345678 failed'],
    ['endpoint sts-vpc.cn-shanghai-finance-1.aliyuncs.com unreachable', 'endpoint sts-vpc.cn-shanghai-finance-1.aliyuncs.com unreachable'],
    ['https://127.0.0.1:8080/creds?x=1', 'https://127.0.0.1:8080/creds?x=1'],
    ['Error: connect ECONNREFUSED 127.0.0.1:8200', 'Error: connect ECONNREFUSED 127.0.0.1:8200'],
    ['the token expired at 2024-01-15T09:00:00Z', 'the token expired at 2024-01-15T09:00:00Z'],
    ['the secret is wrong', 'the secret is wrong'],
    ['key_pair_name = mykey; role_arn = acs:ram::123:role/a', 'key_pair_name = mykey; role_arn = acs:ram::123:role/a'],
    ['vault: permission denied for role app (HTTP 403)', 'vault: permission denied for role app (HTTP 403)'],
    ['ALIBABA_CLOUD_ACCESS_KEY_ID is not set', 'ALIBABA_CLOUD_ACCESS_KEY_ID is not set'],
    ['account 1234567890123456 has no role', 'account 1234567890123456 has no role'],
    ['secret=', 'secret='],
    ['', ''],
  ];

  it.each(table)('%j', (input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it('never lets the secrets of the table through', () => {
    for (const [input] of table) {
      const out = redactText(input);
      for (const secret of ['abcdefghijklmnopqrstuvwxyz', 'hunter2', 'shortpw', 'LTAI5tProcessTest0000001', 'Zx9ProcSecret0123456789abcdEF']) {
        expect(out).not.toContain(secret);
      }
    }
  });
});

describe('redactText: bounds and adversarial input', () => {
  it('looks at most maxChars (the tail by default), dropping a value cut in two', () => {
    const secretTail = 'abcdefghij'; // the end of a secret whose start was cut off
    const text = `AccessKeySecret is xyzxyzxyz${secretTail} then the end`;
    const cut = redactText(text, { maxChars: secretTail.length + ' then the end'.length });
    expect(cut).toBe('… then the end');
    expect(redactText(`head ${'x'.repeat(100)}`, { maxChars: 10, keep: 'start' })).toBe('head …');
  });

  it('cutAtStart: the first word of a kept tail is dropped (it may be a piece of a secret)', () => {
    expect(redactText('ghijklmn failed for role app', { cutAtStart: true })).toBe('… failed for role app');
  });

  const megabyte = 1024 * 1024;
  const adversarial: [string, string][] = [
    ['letters only', 'a'.repeat(megabyte)],
    ['secret words without values', 'secret '.repeat(megabyte / 7)],
    ['assignments without values', 'secret='.repeat(megabyte / 7)],
    ['secret words followed by "is"', 'key is '.repeat(megabyte / 7)],
    ['kebab pieces', 'a1-'.repeat(megabyte / 3)],
    ['path pieces', '/a1b2c3d4e5f6g7h8'.repeat(megabyte / 17)],
    ['15-character runs', 'abcdefghij12345 '.repeat(megabyte / 16)],
    ['equals runs', 'a=b'.repeat(megabyte / 3)],
    ['one long identifier with a secret word', `Secret${'x'.repeat(megabyte)}`],
  ];

  it.each(adversarial)('1 MB of %s: fast when bounded (default) and linear when not', (_name, text) => {
    let started = performance.now();
    const bounded = redactText(text);
    expect(performance.now() - started).toBeLessThan(100);
    expect(bounded.length).toBeLessThanOrEqual(8 * 1024 + 1);
    started = performance.now();
    redactText(text, { maxChars: Number.POSITIVE_INFINITY });
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

const NODE = JSON.stringify(process.execPath);
const SECRET_LETTERS = 'abcdefghijklmnopqrstuvwxyzABCD';
const SECRET_B64 = 'Q2FJU3Rva2VuK0Jhc2U2NC9zZWNyZXQ=';
let dir: string;
const opened: { close(): void }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alicred-hardening-redact-'));
});
afterAll(async () => {
  for (const p of opened) p.close();
  await rm(dir, { recursive: true, force: true });
});

/** A provider running `node <script>` where the script is written to a file. */
async function scripted(name: string, source: string, options: Partial<FromProcessOptions> = {}) {
  const path = join(dir, `${name}.cjs`);
  await writeFile(path, source);
  const provider = fromProcess({ command: `${NODE} ${JSON.stringify(path)}`, env: {}, ...options });
  opened.push(provider);
  return provider;
}

function printed(error: unknown): string {
  return [String(error), (error as Error).message, inspect(error, { depth: 5 }), JSON.stringify(error)].join('\n');
}

describe('fromProcess: the stderr excerpt', () => {
  it('masks letters-only and base64 values after secret words; keeps the path, ARN and request id', async () => {
    const stderr =
      `AccessKeySecret ${SECRET_LETTERS}\n` +
      `sts_token is ${SECRET_B64}\n` +
      'cannot read /home/u/.aliyun/config.json for acs:ram::123456789012:role/x ' +
      '(RequestId 8F1C2A3B-1234-5678-9ABC-DEF012345678)\n';
    const provider = await scripted('letters', `process.stderr.write(${JSON.stringify(stderr)}); process.exit(5)`);
    const error = await failure(provider);
    expect(error.code).toBe('ProcessFailed');
    for (const secret of [SECRET_LETTERS, SECRET_B64, SECRET_B64.slice(0, 20)]) expect(printed(error)).not.toContain(secret);
    expect(error.message).toContain('/home/u/.aliyun/config.json');
    expect(error.message).toContain('acs:ram::123456789012:role/x');
    expect(error.message).toContain('8F1C2A3B-1234-5678-9ABC-DEF012345678');
    expect(error.message).toContain(`AccessKeySecret ${REDACTED}`);
  });

  it('a 1 MB stderr is reported quickly, its tail redacted, without the piece of a secret cut at the start', async () => {
    // The kept tail (4 KiB) begins inside a letters-only secret that follows "secret is".
    const tailText = ' failed: acs:ram::123456789012:role/x denied';
    const secret = 'Q'.repeat(2000) + 'ZYXWVUTSRQPONMLKJIHGFEDCBA'.repeat(100);
    const script =
      `process.stderr.write('x '.repeat(512 * 1024));` +
      `process.stderr.write('secret is ' + ${JSON.stringify(secret)} + ${JSON.stringify(tailText)});` +
      `process.exitCode = 7;`;
    const provider = await scripted('flood', script);
    const started = performance.now();
    const error = await failure(provider);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(error.message).toContain('exited with code 7');
    expect(error.message).toContain('acs:ram::123456789012:role/x denied');
    expect(error.message).not.toMatch(/ZYXWV|QQQQ/);
  });
});

describe('fromProcess: lifetime ceiling', () => {
  const creds = (expiration: string) =>
    JSON.stringify({ mode: 'StsToken', access_key_id: 'STS.clamp', access_key_secret: 'clamp-secret-0123456789', sts_token: 'clamp-token', expiration });

  it('an expiration more than 12 h away is cut to 12 h, with a warning naming the provider and both lifetimes', async () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    const warnings: string[] = [];
    const provider = await scripted('far', `process.stdout.write(${JSON.stringify(creds('2031-01-01T00:00:00Z'))})`, {
      logger: { warn: (m: string) => warnings.push(m) },
      refresh: { clock: () => now, backgroundTimer: false },
    });
    const c = await provider();
    expect(c.expiration?.toISOString()).toBe('2030-01-01T12:00:00.000Z');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/process .*node/);
    expect(warnings[0]).toContain('2031-01-01T00:00:00.000Z');
    expect(warnings[0]).toContain(`${365 * 86400} s`);
    expect(warnings[0]).toContain('2030-01-01T12:00:00.000Z');
    expect(warnings[0]).toContain('43200 s');
    expect(warnings.join('\n')).not.toMatch(/clamp-secret|clamp-token/);
  });

  it('an expiration within 12 h is kept as printed, without a warning', async () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    const warnings: string[] = [];
    const provider = await scripted('near', `process.stdout.write(${JSON.stringify(creds('2030-01-01T11:00:00Z'))})`, {
      logger: { warn: (m: string) => warnings.push(m) },
      refresh: { clock: () => now, backgroundTimer: false },
    });
    expect((await provider()).expiration?.toISOString()).toBe('2030-01-01T11:00:00.000Z');
    expect(warnings).toEqual([]);
  });
});
