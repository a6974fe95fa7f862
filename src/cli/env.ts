/**
 * `alicred env`: the resolved credentials as environment variables for a shell
 * (`eval "$(alicred env)"`), or as the aliyun CLI's External-mode JSON, so alicred itself can
 * be a `process_command` (`"process_command": "alicred env --format json"`).
 *
 * @internal
 */
import type { Credentials } from '../credentials.js';
import { choiceOption, IDENTITY_OPTIONS, parseCommandArgs, stringOption } from './args.js';
import { EXIT, isoSeconds, type CommandContext, type Output } from './output.js';
import { commandProvider } from './provider.js';

export const ENV_HELP = `Usage: alicred env [--profile P] [--role-arn ARN] [--format sh|fish|powershell|json]

Prints the credentials of the default chain (or of --profile P; with --role-arn, of that
role assumed on top) as environment variables:

  eval "$(alicred env)"                          # sh, bash, zsh
  alicred env --format fish | source             # fish
  alicred env --format powershell | Invoke-Expression

--format json prints the aliyun CLI's External-mode JSON (mode StsToken or AK), so that
alicred can serve as an External profile's process_command:

  "process_command": "alicred env --format json"

The output holds secrets: pipe it, do not save or paste it.`;

/** Shells and the JSON format. */
export const ENV_FORMATS = ['sh', 'fish', 'powershell', 'json'] as const;
export type EnvFormat = (typeof ENV_FORMATS)[number];
export type ShellFormat = Exclude<EnvFormat, 'json'>;

/** A variable to set, or (value undefined) to unset. */
export type EnvVar = readonly [name: string, value: string | undefined];

/** `'…'` for POSIX sh: nothing is special inside single quotes but the quote itself. */
function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `'…'` for fish: inside single quotes only `\\` and `\'` are escapes. */
function fishQuote(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/** `'…'` for PowerShell: a quote (including the typographic ones PowerShell also takes) is doubled. */
function powershellQuote(value: string): string {
  return `'${value.replace(/['\u2018\u2019\u201a\u201b]/g, (c) => c + c)}'`;
}

/** Variable names are ours (ALIBABA_CLOUD_…), never user input; checked anyway. */
function checkName(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new TypeError(`not an environment variable name: ${name}`);
  return name;
}

/** The lines that set (or unset) `vars` in `format`'s shell. */
export function shellLines(vars: readonly EnvVar[], format: ShellFormat): string[] {
  return vars.map(([rawName, value]) => {
    const name = checkName(rawName);
    switch (format) {
      case 'sh':
        return value === undefined ? `unset ${name}` : `export ${name}=${shQuote(value)}`;
      case 'fish':
        return value === undefined ? `set -e ${name}` : `set -gx ${name} ${fishQuote(value)}`;
      case 'powershell':
        return value === undefined
          ? `Remove-Item -ErrorAction SilentlyContinue Env:${name}`
          : `$Env:${name} = ${powershellQuote(value)}`;
    }
  });
}

/** The three variables of `fromEnv`, the token unset for a long-lived key (a stale one would break signing). */
export function credentialVars(credentials: Credentials): EnvVar[] {
  return [
    ['ALIBABA_CLOUD_ACCESS_KEY_ID', credentials.accessKeyId],
    ['ALIBABA_CLOUD_ACCESS_KEY_SECRET', credentials.accessKeySecret],
    ['ALIBABA_CLOUD_SECURITY_TOKEN', credentials.securityToken === '' ? undefined : credentials.securityToken],
  ];
}

/** The aliyun CLI's External-mode JSON (what `fromProcess` and the CLI read). */
export function externalJson(credentials: Credentials): string {
  const token = credentials.securityToken !== undefined && credentials.securityToken !== '' ? credentials.securityToken : undefined;
  const body: Record<string, string> = {
    mode: token === undefined ? 'AK' : 'StsToken',
    access_key_id: credentials.accessKeyId,
    access_key_secret: credentials.accessKeySecret,
  };
  if (token !== undefined) body.sts_token = token;
  if (credentials.expiration !== undefined) body.expiration = isoSeconds(credentials.expiration);
  return JSON.stringify(body);
}

export async function envCommand(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const values = parseCommandArgs(argv, { ...IDENTITY_OPTIONS, format: { type: 'string' } });
  const output: Output = ctx.output;
  if (values.help) {
    output.out(ENV_HELP);
    return EXIT.ok;
  }
  const format = choiceOption(values, 'format', ENV_FORMATS, 'sh');
  const provider = commandProvider({ profile: stringOption(values, 'profile'), roleArn: stringOption(values, 'role-arn'), env: ctx.env, logger: ctx.logger });
  try {
    const credentials = await output.progress('resolving credentials', provider());
    if (format === 'json') output.out(externalJson(credentials));
    else for (const line of shellLines(credentialVars(credentials), format)) output.out(line);
    return EXIT.ok;
  } finally {
    provider.close();
  }
}
