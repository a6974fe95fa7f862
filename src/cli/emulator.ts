/**
 * `alicred emulator`: the local RAM/STS emulator of `alicred/testing`, standalone, with the
 * environment variables that point alicred (and the official libraries) at it.
 *
 * @internal
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { choiceOption, parseCommandArgs, portOption, stringOption } from './args.js';
import { shellLines, type EnvVar, type ShellFormat } from './env.js';
import { CliError, EXIT, UsageError, type CommandContext } from './output.js';

export const EMULATOR_HELP = `Usage: alicred emulator [--port N] [--config FILE] [--format sh|fish|powershell]

Runs the local RAM/STS emulator of alicred/testing (STS AssumeRole, GetCallerIdentity,
AssumeRoleWithOIDC; IoT, OSS and Table Store APIs; optionally ECS metadata and a
credentials URI) on 127.0.0.1 (--port N, default: a free port) until SIGTERM or Ctrl-C,
and prints the environment variables that use it:

  alicred emulator --config emu.json > emu.env &   # then, in each shell: . ./emu.env

--config FILE: JSON shaped like startEmulator's options (accountId, users, roles,
oidcProviders, products, timeScale, maxSkewSeconds, ecs, credentialsUri, cloudSso, oauth,
cors, port). Without it: one user "dev" with a new random key, and a role "dev-role" that
it may assume.
Keys of the first user are printed as ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET.
An unknown key in the file is a usage error (exit 2).`;

/** What the command uses of alicred/testing (loaded only by this command). */
type Emulator = {
  readonly url: string;
  readonly stsEndpoint: string;
  readonly credentialsUri: string;
  readonly metadataEndpoint: string;
  readonly port: number;
  roleArn(name: string): string;
  close(): Promise<void>;
};
type TestingModule = { startEmulator(options: Record<string, unknown>): Promise<Emulator> };

/** Keys of the options, and of the objects inside them, a config file may use. */
const KEYS: Record<string, readonly string[]> = {
  '': ['accountId', 'users', 'roles', 'oidcProviders', 'products', 'timeScale', 'maxSkewSeconds', 'ecs', 'credentialsUri', 'cloudSso', 'oauth', 'cors', 'port'],
  users: ['name', 'accessKeyId', 'accessKeySecret', 'policies', 'disabled'],
  roles: ['name', 'trustedUsers', 'trustedRoles', 'trustedOidcProviders', 'maxSessionDuration', 'policies'],
  oidcProviders: ['name', 'issuerUrl', 'clientIds'],
  products: ['productKey', 'productName', 'nodeType', 'dataFormat', 'authType', 'description', 'deviceCount'],
  ecs: ['roleName', 'requireToken', 'lifetimeSeconds', 'rotateBeforeSeconds'],
  credentialsUri: ['roleName', 'path', 'requireHeader', 'lifetimeSeconds'],
  cloudSso: ['assignments', 'durationSeconds'],
  oauth: ['role', 'accessTokenSeconds', 'refreshTokenSeconds', 'durationSeconds', 'rotateRefreshTokens', 'exchangeCase'],
  cors: ['allowOrigins'],
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Refuses keys the emulator does not know, naming where (`users[1].nmae`). */
export function checkConfigKeys(config: unknown, file: string): Record<string, unknown> {
  if (!isObject(config)) throw new UsageError(`${file}: the config must be a JSON object`);
  const check = (value: unknown, kind: string, where: string) => {
    if (!isObject(value)) return; // the emulator's own validation names wrong types
    for (const key of Object.keys(value)) {
      if (!KEYS[kind]!.includes(key)) {
        throw new UsageError(`${file}: unknown key ${where}${where ? '.' : ''}${key} (known: ${KEYS[kind]!.join(', ')})`);
      }
    }
  };
  check(config, '', '');
  for (const kind of ['ecs', 'credentialsUri', 'cloudSso', 'oauth', 'cors']) check(config[kind], kind, kind);
  for (const kind of ['users', 'roles', 'oidcProviders', 'products']) {
    const list = config[kind];
    if (Array.isArray(list)) list.forEach((item, i) => check(item, kind, `${kind}[${i}]`));
  }
  return config;
}

async function readConfig(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new UsageError(`cannot read --config ${path}${typeof code === 'string' ? ` (${code})` : ''}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path} is not valid JSON (${error instanceof Error ? error.message : 'parse error'})`);
  }
  return checkConfigKeys(parsed, path);
}

/** With no config: one user with a fresh random key and a role it may assume. */
function defaultConfig(): Record<string, unknown> {
  const id = `LTAI5tDev${randomBytes(8).toString('hex').toUpperCase()}`;
  return {
    users: [{ name: 'dev', accessKeyId: id, accessKeySecret: randomBytes(18).toString('base64url') }],
    roles: [{ name: 'dev-role', trustedUsers: ['dev'] }],
  };
}

export async function emulatorCommand(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const values = parseCommandArgs(argv, { port: { type: 'string' }, config: { type: 'string' }, format: { type: 'string' } });
  const { output } = ctx;
  if (values.help) {
    output.out(EMULATOR_HELP);
    return EXIT.ok;
  }
  const format = choiceOption<ShellFormat>(values, 'format', ['sh', 'fish', 'powershell'], 'sh');
  const configPath = stringOption(values, 'config');
  const config = configPath === undefined ? defaultConfig() : await readConfig(configPath);
  if (values.port !== undefined) config.port = portOption(values, 0);
  // A self-reference to this package's testing entry: loaded only here, never bundled into the CLI.
  const testing = (await import('alicred/testing' as string)) as TestingModule;
  const stopping = ctx.stopped();
  let emu: Emulator;
  try {
    emu = await testing.startEmulator(config);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: unknown }).code;
    if (error instanceof TypeError) throw new UsageError(`${configPath ?? 'config'}: ${message}`);
    throw new CliError(typeof code === 'string' ? `cannot start the emulator (${code})` : `cannot start the emulator: ${message}`);
  }
  try {
    const vars: EnvVar[] = [['ALIBABA_CLOUD_STS_ENDPOINT', emu.stsEndpoint]];
    if (config.ecs === undefined) vars.push(['ALIBABA_CLOUD_ECS_METADATA_DISABLED', 'true']);
    if (config.credentialsUri !== undefined) vars.push(['ALIBABA_CLOUD_CREDENTIALS_URI', emu.credentialsUri]);
    const users = Array.isArray(config.users) ? config.users : [];
    const first = users[0] as { accessKeyId?: unknown; accessKeySecret?: unknown } | undefined;
    if (typeof first?.accessKeyId === 'string' && typeof first.accessKeySecret === 'string') {
      vars.push(['ALIBABA_CLOUD_ACCESS_KEY_ID', first.accessKeyId], ['ALIBABA_CLOUD_ACCESS_KEY_SECRET', first.accessKeySecret], ['ALIBABA_CLOUD_SECURITY_TOKEN', undefined]);
    }
    for (const line of shellLines(vars, format)) output.out(line);
    output.note(`emulator on ${emu.url}${config.ecs !== undefined ? ` (ECS metadata at ${emu.metadataEndpoint})` : ''}; stop with Ctrl-C`);
    const roles = Array.isArray(config.roles) ? config.roles : [];
    for (const role of roles) {
      if (isObject(role) && typeof role.name === 'string') output.note(`role ${emu.roleArn(role.name)}`);
    }
    const signal = await stopping;
    output.note(`${signal}: stopping`);
    return EXIT.ok;
  } finally {
    await emu.close();
  }
}
