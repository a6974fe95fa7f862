/**
 * Fault matrix, profile files: unreadable, truncated, binary, and a symlink loop, under a
 * temporary HOME. Each profile assumes a role at the emulator, so "no STS call" is counted,
 * and each file holds the source AccessKeySecret, which no error may quote.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, CredentialsProviderError } from '../../src/index.js';
import { fromCliProfile, fromIniProfile } from '../../src/node/index.js';
import { startEmulator, type Emulator } from '../../src/testing/index.js';
import { recordFigures } from './figures.js';
import { expectTypedError, faultTable, issuedSecrets, probe, releaseProbes, settle } from './harness.js';

// Root reads any file whatever its mode; this suite may run as root (CI containers). For
// files of mode 000, open() then fails as the kernel fails it for every other user.
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof real.open = async (path, ...rest) => {
    if (process.getuid?.() === 0 && typeof path === 'string') {
      const info = await real.stat(path).catch(() => undefined);
      if (info?.isFile() && (info.mode & 0o444) === 0) {
        throw Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: 'EACCES', errno: -13, syscall: 'open', path });
      }
    }
    return real.open(path, ...rest);
  };
  return { ...real, open, default: { ...real, open } };
});

const ALICE = { accessKeyId: 'LTAI5tFileAlice00000001', accessKeySecret: 'alice-file-secret-Jd7Pw2Nq5K' };
const RETRY = { retries: 2, minDelayMs: 1, maxDelayMs: 5 };
const table = faultTable();
const homes: string[] = [];
let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator({ users: [{ name: 'alice', ...ALICE }], roles: [{ name: 'app', trustedUsers: ['alice'] }] });
});
afterEach(() => releaseProbes());
afterAll(async () => {
  await emu.close();
  for (const h of homes) rmSync(h, { recursive: true, force: true });
  recordFigures('faults', table.rows);
});

function home(): string {
  const dir = mkdtempSync(join(tmpdir(), 'alicred-faults-home-'));
  homes.push(dir);
  mkdirSync(join(dir, '.alibabacloud'));
  mkdirSync(join(dir, '.aliyun'));
  return dir;
}

const iniProfile = () =>
  `[default]\ntype = ram_role_arn\naccess_key_id = ${ALICE.accessKeyId}\naccess_key_secret = ${ALICE.accessKeySecret}\n` +
  `role_arn = ${emu.roleArn('app')}\nrole_session_name = faults\n`;

const cliConfig = () =>
  JSON.stringify(
    {
      current: 'default',
      profiles: [
        { name: 'default', mode: 'RamRoleArn', access_key_id: ALICE.accessKeyId, access_key_secret: ALICE.accessKeySecret, ram_role_arn: emu.roleArn('app'), ram_session_name: 'faults', expired_seconds: 900 },
      ],
    },
    null,
    2,
  );

type Probe = ReturnType<typeof probe>;
const options = (p: Probe, homedir: string) => ({
  homedir,
  env: { ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' },
  sts: { endpoint: emu.stsEndpoint },
  logger: p.logger,
  refresh: { retry: RETRY, onEvent: p.onEvent },
});

/** Calls the provider, checks the ConfigError (naming the file) and that STS was never called. */
async function fileCase(fault: string, make: (p: Probe) => { close(): void; (): Promise<unknown> }, message: RegExp, file: string, outcome: string) {
  const p = probe();
  const before = emu.callCount();
  const provider = make(p);
  const r = await settle(provider());
  const error = expectTypedError(!r.ok && r.error, { cls: ConfigError, code: 'ConfigError', message }) as ConfigError;
  expect(error.file).toBe(file);
  expect(error.tryNext).toBe(false);
  expect(emu.callCount() - before).toBe(0);
  await p.end({ errors: [error], secrets: [ALICE.accessKeySecret, ...issuedSecrets(emu)], close: [provider] });
  table.row(fault, 0, outcome);
}

describe('profile file faults', () => {
  it('unreadable credentials file (mode 000)', async () => {
    const dir = home();
    const file = join(dir, '.alibabacloud', 'credentials');
    writeFileSync(file, iniProfile());
    chmodSync(file, 0o000);
    await fileCase('unreadable profile file', (p) => fromIniProfile(options(p, dir)), /cannot be read \(EACCES\)/, file, 'ConfigError (EACCES), no STS call');
  });

  it('truncated CLI config (cut inside the profile, after the secret)', async () => {
    const dir = home();
    const file = join(dir, '.aliyun', 'config.json');
    const text = cliConfig();
    writeFileSync(file, text.slice(0, text.indexOf('ram_role_arn')), { mode: 0o600 });
    await fileCase('truncated profile file', (p) => fromCliProfile(options(p, dir)), /config\.json.*line \d+/, file, 'ConfigError with line, no STS call');
  });

  it('binary credentials file', async () => {
    const dir = home();
    const file = join(dir, '.alibabacloud', 'credentials');
    // Deterministic bytes, NULs and invalid UTF-8 included, then the real profile.
    const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 131 + 7) % 256));
    writeFileSync(file, Buffer.concat([bytes, Buffer.from(iniProfile())]), { mode: 0o600 });
    // The garbage swallows the [default] header (no newline before it), so no profile can be
    // read at all: a broken file, reported as a ConfigError naming it, so a chain stops here
    // instead of quietly using another identity.
    const p = probe();
    const provider = fromIniProfile(options(p, dir));
    const r = await settle(provider());
    const error = expectTypedError(!r.ok && r.error, { cls: ConfigError, code: 'ConfigError', message: /credentials is not an ini credentials file: no profile could be read/ });
    expect((error as ConfigError).file).toBe(file);
    expect((error as CredentialsProviderError).tryNext).toBe(false);
    expect(emu.callCount()).toBe(0);
    await p.end({ errors: [error], secrets: [ALICE.accessKeySecret, ...issuedSecrets(emu)], close: [provider] });
    table.row('binary profile file', 0, 'ConfigError naming the file, no STS call');
  });

  it('symlink loop in place of the credentials file', async () => {
    const dir = home();
    const file = join(dir, '.alibabacloud', 'credentials');
    symlinkSync(`${file}.loop`, file);
    symlinkSync(file, `${file}.loop`);
    await fileCase('symlink-loop profile file', (p) => fromIniProfile(options(p, dir)), /cannot read .*credentials \(ELOOP\)/, file, 'ConfigError (ELOOP), no STS call');
  });
});
