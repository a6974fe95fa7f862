/**
 * `alicred doctor`: every link of the default chain with its verdict (not configured and why,
 * configured and answering, configured but failing), whether STS accepts what answers,
 * profile files other users can read, the clock against STS's `Date` header, and the STS
 * endpoint in use. Exits 1 when the chain as a whole yields nothing usable.
 *
 * @internal
 */
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Credentials } from '../credentials.js';
import { isCredentialsError, messageOf, saysTryNext } from '../errors.js';
import { envString } from '../internal/env.js';
import { sanitizeText } from '../internal/redact.js';
import { defaultChainLinks } from '../node/default.js';
import { createStsClient, type CallerIdentity } from '../sts/client.js';
import { resolveStsEndpoint, type ResolvedStsEndpoint } from '../sts/endpoints.js';
import { parseHttpDate } from '../sts/time.js';
import type { Logger } from '../types.js';
import { parseCommandArgs, stringOption } from './args.js';
import { EXIT, fromNow, isoSeconds, oneLine, type CommandContext } from './output.js';

export const DOCTOR_HELP = `Usage: alicred doctor [--profile P]

Checks where credentials would come from, without printing any secret:

  - the STS endpoint that would be used, and where that choice came from;
  - the local clock against the Date header of STS's answer;
  - each link of the default chain (env, oidc, cli-profile, ini-profile, ecs-metadata,
    credentials-uri): not configured (and why), answering (and whether STS accepts the
    credentials: GetCallerIdentity), or configured but failing (and why);
  - profile files that other users can read.

Exit status: 0 when the chain yields credentials (that STS does not refuse), 1 otherwise,
2 wrong usage.`;

/** The verdict on one link. */
type Verdict =
  | { kind: 'skipped'; why: string }
  | { kind: 'failed'; why: string }
  | { kind: 'answered'; credentials: Credentials; identity?: CallerIdentity; refused?: string; unverified?: string };

/** Beyond this, a clock offset is worth a warning (STS accepts 15 min of skew). */
const CLOCK_WARN_MS = 5 * 60_000;

const safeMessage = (error: unknown): string => oneLine(isCredentialsError(error) ? error.message : sanitizeText(messageOf(error), [], 300));

async function verdictOf(provider: () => Promise<Credentials>): Promise<Verdict> {
  try {
    return { kind: 'answered', credentials: await provider() };
  } catch (error) {
    return saysTryNext(error) ? { kind: 'skipped', why: safeMessage(error) } : { kind: 'failed', why: safeMessage(error) };
  }
}

/** The local clock's offset from STS's (ms; positive: STS is ahead), from its `Date` header. */
async function clockOffset(endpoint: ResolvedStsEndpoint): Promise<number> {
  const before = Date.now();
  const response = await fetch(`${endpoint.url}/`, { method: 'GET', signal: AbortSignal.timeout(5_000), redirect: 'manual' });
  const after = Date.now();
  await response.body?.cancel().catch(() => {});
  const server = parseHttpDate(response.headers.get('date'));
  if (server === undefined) throw new Error('its answer has no usable Date header');
  // The header is whole seconds, cut down: the server's time was, on average, half a second later.
  return server + 500 - (before + after) / 2;
}

/** The profile files the default chain would read, as the two profile sources choose them. */
function profileFiles(env: CommandContext['env']): string[] {
  const home = homedir();
  const expand = (p: string) => (p === '~' ? home : p.startsWith('~/') ? join(home, p.slice(2)) : p);
  const cli = envString(env, 'ALIBABA_CLOUD_CONFIG_FILE');
  const ini = envString(env, 'ALIBABA_CLOUD_CREDENTIALS_FILE');
  return [
    cli === undefined ? join(home, '.aliyun', 'config.json') : expand(cli),
    ...(ini === undefined ? [join(home, '.alibabacloud', 'credentials'), join(home, '.alibabacloud', 'credentials.ini')] : [expand(ini)]),
  ];
}

function describeCredentials(c: Credentials): string {
  const kind = c.securityToken ? 'temporary' : 'long-lived AccessKey';
  const expiry = c.expiration === undefined ? '' : `, expires ${isoSeconds(c.expiration)} (${fromNow(c.expiration)})`;
  return `${kind} ${c.accessKeyId} from ${c.source}${expiry}`;
}

export async function doctorCommand(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const values = parseCommandArgs(argv, { profile: { type: 'string' } });
  const { output, env } = ctx;
  if (values.help) {
    output.out(DOCTOR_HELP);
    return EXIT.ok;
  }
  const profile = stringOption(values, 'profile');
  const ok = (text: string) => output.paint('green', text);
  const bad = (text: string) => output.paint('red', text);
  const meh = (text: string) => output.paint('yellow', text);
  const heading = (text: string) => output.out(output.paint('bold', text));

  // The links' warnings are collected and shown together; debug lines go out as they come.
  const warnings: string[] = [];
  const logger: Logger = { warn: (message: string) => void warnings.push(message) };
  if (typeof ctx.logger.debug === 'function') logger.debug = ctx.logger.debug;

  heading('STS');
  let endpoint: ResolvedStsEndpoint | undefined;
  try {
    endpoint = resolveStsEndpoint({}, env);
    const from = { option: 'an option', env: 'ALIBABA_CLOUD_STS_ENDPOINT', region: 'the region setting', default: 'the default' }[endpoint.source];
    output.out(`  endpoint  ${endpoint.url} (from ${from})`);
  } catch (error) {
    output.out(`  endpoint  ${bad('invalid')}: ${safeMessage(error)}`);
  }
  const sts = endpoint === undefined ? undefined : createStsClient({ env, logger });

  const links = defaultChainLinks({ profile, env, logger });
  const clock =
    endpoint === undefined
      ? undefined
      : clockOffset(endpoint).then(
          (ms) => ({ ms }),
          (error: unknown) => {
            const code = (error as { cause?: { code?: unknown } }).cause?.code;
            return { error: typeof code === 'string' ? code : safeMessage(error) };
          },
        );
  const verdicts = await output.progress(
    'checking each link of the default chain',
    Promise.all(
      links.map(async ({ provider }): Promise<Verdict> => {
        const verdict = await verdictOf(() => provider());
        if (verdict.kind !== 'answered' || sts === undefined) return verdict;
        try {
          return { ...verdict, identity: await sts.getCallerIdentity(verdict.credentials) };
        } catch (error) {
          const code = isCredentialsError(error) ? error.code : undefined;
          const network = code === 'NetworkError' || code === 'Timeout' || (isCredentialsError(error) && error.retryable);
          return network ? { ...verdict, unverified: safeMessage(error) } : { ...verdict, refused: safeMessage(error) };
        }
      }),
    ),
  );
  for (const link of links) (link.provider as { close?: () => void }).close?.();

  const offset = clock === undefined ? undefined : await output.progress('reading the clock of STS', clock);
  if (offset !== undefined) {
    if ('error' in offset) output.out(`  clock     ${meh('unknown')}: STS could not be reached (${offset.error})`);
    else {
      const seconds = Math.round(offset.ms / 100) / 10;
      const text = `${seconds >= 0 ? '+' : ''}${seconds.toFixed(1)} s (${seconds >= 0 ? 'STS ahead of' : 'STS behind'} this machine, by its Date header)`;
      output.out(`  clock     ${Math.abs(offset.ms) > CLOCK_WARN_MS ? meh(text) : text}`);
    }
  }

  output.out();
  heading(`Default chain${profile === undefined ? '' : ` (profile ${profile})`}`);
  let decided: number | undefined;
  verdicts.forEach((v, i) => {
    if (decided === undefined && v.kind !== 'skipped') decided = i;
  });
  const width = Math.max(...links.map((l) => l.name.length));
  verdicts.forEach((v, i) => {
    const name = `${i + 1}. ${links[i]!.name.padEnd(width)}`;
    const mark = v.kind === 'failed' ? '  <- the chain stops here' : '  <- used';
    const used = i === decided ? output.paint('bold', mark) : decided !== undefined && i > decided ? '  (not reached)' : '';
    if (v.kind === 'skipped') output.out(`  ${name}  ${meh('not configured')}: ${v.why}${used}`);
    else if (v.kind === 'failed') output.out(`  ${name}  ${bad('configured, failing')}: ${v.why}${used}`);
    else {
      const check = v.identity
        ? `; STS: ${ok('valid')}, ${v.identity.arn}`
        : v.refused
          ? `; STS: ${bad('refused')}: ${v.refused}`
          : v.unverified
            ? `; STS: ${meh('not verified')} (${v.unverified})`
            : '';
      output.out(`  ${name}  ${v.refused ? bad('answers') : ok('answers')}: ${describeCredentials(v.credentials)}${check}${used}`);
    }
  });

  output.out();
  heading('Profile files');
  for (const path of profileFiles(env)) {
    try {
      const info = await stat(path);
      const mode = (info.mode & 0o777).toString(8).padStart(3, '0');
      if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
        output.out(`  ${path}  ${meh(`mode ${mode}: other users can read or change it; run: chmod 600 '${path.replace(/'/g, `'\\''`)}'`)}`);
      } else output.out(`  ${path}  mode ${mode}`);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      output.out(`  ${path}  ${code === 'ENOENT' ? 'not found' : `cannot be read (${typeof code === 'string' ? code : 'error'})`}`);
    }
  }
  const other = [...new Set(warnings)].filter((w) => !w.includes('is accessible by other users'));
  if (other.length > 0) {
    output.out();
    heading('Warnings');
    for (const w of other) output.out(`  ${meh(oneLine(w))}`);
  }

  output.out();
  const winner = decided === undefined ? undefined : verdicts[decided];
  if (winner === undefined) {
    output.out(`${bad('No credentials')}: no link of the default chain is configured.`);
    return EXIT.credentials;
  }
  const winnerName = links[decided!]!.name;
  if (winner.kind === 'failed') {
    output.out(`${bad('No credentials')}: ${winnerName} is configured but fails, and the chain stops there (it never falls through to another identity).`);
    return EXIT.credentials;
  }
  if (winner.kind === 'answered' && winner.refused) {
    output.out(`${bad('Unusable credentials')}: ${winnerName} answers, but STS refuses them.`);
    return EXIT.credentials;
  }
  const who = winner.kind === 'answered' && winner.identity ? ` (${winner.identity.arn})` : '';
  output.out(`${ok('OK')}: credentials come from ${winnerName}${who}.`);
  return EXIT.ok;
}
