/**
 * The `alicred` command's pieces in-process: colour only on a terminal and never with
 * NO_COLOR, one-line errors and exit codes, the shells' quoting (also for characters the
 * child-process tests cannot carry in a credential), argument checks, config key checks.
 */
import { describe, expect, it } from 'vitest';
import { CredentialsChainError, CredentialsProviderError, StsError } from '../src/index.js';
import { parseCommandArgs, portOption } from '../src/cli/args.js';
import { checkConfigKeys } from '../src/cli/emulator.js';
import { externalJson, shellLines } from '../src/cli/env.js';
import { EXIT, Output, report, UsageError, type Io } from '../src/cli/output.js';
import { createCredentials } from '../src/credentials.js';

function io(tty: boolean, env: Record<string, string> = {}): Io & { text: () => { out: string; err: string } } {
  let out = '';
  let err = '';
  return {
    stdout: { isTTY: tty, write: (t: string) => (out += t) },
    stderr: { isTTY: tty, write: (t: string) => (err += t) },
    env,
    text: () => ({ out, err }),
  };
}

describe('Output', () => {
  it('colour on a terminal only, and never with NO_COLOR or TERM=dumb', () => {
    expect(new Output(io(true)).paint('red', 'x')).toBe('\u001b[31mx\u001b[0m');
    expect(new Output(io(false)).paint('red', 'x')).toBe('x');
    expect(new Output(io(true, { NO_COLOR: '1' })).paint('red', 'x')).toBe('x');
    expect(new Output(io(true, { TERM: 'dumb' })).paint('red', 'x')).toBe('x');
    expect(new Output(io(true, { NO_COLOR: '' })).paint('green', 'x')).toBe('\u001b[32mx\u001b[0m');
  });

  it('report: one line per error, exit 2 for usage and 1 otherwise; a foreign message is sanitized', () => {
    const cases: [unknown, number, RegExp][] = [
      [new UsageError('unknown option --x'), EXIT.usage, /^alicred env: error: unknown option --x \(see: alicred env --help\)\n$/],
      [new CredentialsChainError([{ provider: 'env', error: new CredentialsProviderError('a\nb', { tryNext: true }) }], 'default'), EXIT.credentials, /no credentials found.*alicred doctor/],
      [new StsError('STS AssumeRole failed:\nNoPermission', { code: 'NoPermission' }), EXIT.credentials, /^alicred env: error: STS AssumeRole failed:; NoPermission\n$/],
      [new Error('GET https://h.example/x?token=abcdef0123456789abcdef failed'), EXIT.credentials, /^alicred env: error: GET https:\/\/h\.example\/x\?… failed\n$/],
    ];
    for (const [error, code, text] of cases) {
      const streams = io(false);
      expect(report(new Output(streams, 'alicred env'), error, 'env')).toBe(code);
      expect(streams.text().err).toMatch(text);
      expect(streams.text().out).toBe('');
    }
  });

  it('progress: a line only when the wait passes a second', async () => {
    const streams = io(false);
    const output = new Output(streams, 'alicred whoami');
    await output.progress('quick', Promise.resolve(1));
    expect(streams.text().err).toBe('');
    await output.progress('slow', new Promise((r) => setTimeout(r, 1_100)));
    expect(streams.text().err).toBe('alicred whoami: slow…\n');
  });
});

describe('env formats', () => {
  const tricky = `a'b"c$d\`e\\f!g;h|i&j(k)l*m?n~o#p%q\u2018r\u2019s\nt`;
  it('sh: single quotes, a quote as \'\\\'\'', () => {
    expect(shellLines([['X', tricky], ['Y', undefined]], 'sh')).toEqual([`export X='a'\\''b"c$d\`e\\f!g;h|i&j(k)l*m?n~o#p%q\u2018r\u2019s\nt'`, 'unset Y']);
  });
  it('fish: \\\\ and \\\' escaped inside single quotes', () => {
    expect(shellLines([['X', tricky]], 'fish')).toEqual([`set -gx X 'a\\'b"c$d\`e\\\\f!g;h|i&j(k)l*m?n~o#p%q\u2018r\u2019s\nt'`]);
  });
  it('powershell: every single quote doubled, the typographic ones PowerShell also ends strings with included', () => {
    expect(shellLines([['X', tricky]], 'powershell')).toEqual([`$Env:X = 'a''b"c$d\`e\\f!g;h|i&j(k)l*m?n~o#p%q\u2018\u2018r\u2019\u2019s\nt'`]);
  });
  it('refuses a variable name that is not one', () => {
    expect(() => shellLines([['X; rm -rf /', 'v']], 'sh')).toThrow(TypeError);
  });
  it('json: External mode, StsToken with expiration, AK without', () => {
    const sts = createCredentials({ accessKeyId: 'STS.a', accessKeySecret: 's', securityToken: 't', expiration: new Date('2030-01-02T03:04:05.678Z'), source: 'x' });
    expect(JSON.parse(externalJson(sts))).toEqual({ mode: 'StsToken', access_key_id: 'STS.a', access_key_secret: 's', sts_token: 't', expiration: '2030-01-02T03:04:05Z' });
    expect(JSON.parse(externalJson(createCredentials({ accessKeyId: 'LTAI5ta', accessKeySecret: 's', source: 'x' })))).toEqual({ mode: 'AK', access_key_id: 'LTAI5ta', access_key_secret: 's' });
  });
});

describe('arguments', () => {
  it('unknown options, missing values, values for flags, stray words, blank values: usage errors', () => {
    const spec = { port: { type: 'string' }, profile: { type: 'string' } } as const;
    expect(parseCommandArgs(['--port', '80', '--profile=p'], spec)).toEqual({ port: '80', profile: 'p' });
    for (const [argv, message] of [
      [['--nope'], /^unknown option --nope$/],
      [['--port'], /^--port needs a value$/],
      [['--help=yes'], /takes no value/],
      [['word'], /^unexpected argument "word"$/],
      [['--profile', ' '], /^--profile needs a value$/],
    ] as const) {
      expect(() => parseCommandArgs(argv, spec)).toThrow(message);
    }
    expect(() => portOption({ port: '65536' }, 0)).toThrow(UsageError);
    expect(() => portOption({ port: '-1' }, 0)).toThrow(UsageError);
    expect(portOption({}, 0)).toBe(0);
  });

  it('emulator config: unknown keys named with their place', () => {
    expect(() => checkConfigKeys({ roles: [{ name: 'r', trustedUser: ['x'] }] }, 'f.json')).toThrow(/unknown key roles\[0\]\.trustedUser/);
    expect(() => checkConfigKeys({ ecs: { role: 'x' } }, 'f.json')).toThrow(/unknown key ecs\.role/);
    expect(checkConfigKeys({ users: [], port: 1 }, 'f.json')).toEqual({ users: [], port: 1 });
  });
});
