/**
 * `alicred serve`: a credentials-URI sidecar on 127.0.0.1 that keeps temporary credentials
 * fresh for other local processes (`ALIBABA_CLOUD_CREDENTIALS_URI`, `fromCredentialsUri`,
 * @alicloud/credentials' `credentials_uri`). Its secret is a random token, carried in the
 * URI's query (or as `Authorization: Bearer`); a `Host` other than 127.0.0.1:<port> or
 * localhost:<port> is refused (DNS rebinding); no CORS; never long-lived keys.
 *
 * @internal
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, basename, join, resolve } from 'node:path';
import type { Credentials } from '../credentials.js';
import { isCredentialsError } from '../errors.js';
import { IDENTITY_OPTIONS, parseCommandArgs, portOption, stringOption } from './args.js';
import { CliError, EXIT, isoSeconds, oneLine, type CommandContext } from './output.js';
import { commandProvider, describeSource, isTemporary, type CommandProvider } from './provider.js';

export const SERVE_HELP = `Usage: alicred serve [--port N] [--role-arn ARN] [--profile P] [--token-file F]

Serves temporary credentials to other processes on this machine, as a credentials URI
(ALIBABA_CLOUD_CREDENTIALS_URI), kept fresh ahead of expiry:

  export ALIBABA_CLOUD_CREDENTIALS_URI="$(alicred serve --role-arn ARN | head -n 1)"

Listens on 127.0.0.1 only (--port N, default: a free port) and prints the URI once; it
carries a random token (query parameter token=, or send it as Authorization: Bearer).
With --token-file F the URI is written to F (mode 0600) instead of stdout.
Answers {Code, AccessKeyId, AccessKeySecret, SecurityToken, Expiration} with no-store.
Long-lived AccessKeys are never served: pass --role-arn to serve a role's credentials.
Requests naming another Host than 127.0.0.1:<port> or localhost:<port> are refused.
Stops on SIGTERM or SIGINT (Ctrl-C).`;

/** The path the credentials are served at. */
export const CREDENTIALS_PATH = '/credentials';

/** A hash of the token, compared in constant time (and so also for tokens of another length). */
const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** The credentials-URI answer, as fromCredentialsUri and @alicloud/credentials read it. */
export function credentialsUriBody(credentials: Credentials): Record<string, string> {
  return {
    Code: 'Success',
    AccessKeyId: credentials.accessKeyId,
    AccessKeySecret: credentials.accessKeySecret,
    SecurityToken: credentials.securityToken ?? '',
    Expiration: isoSeconds(credentials.expiration!),
    LastUpdated: isoSeconds(new Date()),
  };
}

function answer(res: ServerResponse, status: number, body: Record<string, string>, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...extra,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

/** The request handler of the sidecar (exported for tests of the rules). */
export function credentialsHandler(options: {
  token: string;
  port: () => number;
  provider: CommandProvider;
  onRefused: (status: number, why: string) => void;
}): (req: IncomingMessage, res: ServerResponse) => void {
  const expected = digest(options.token);
  const refuse = (res: ServerResponse, status: number, code: string, message: string, extra?: Record<string, string>) => {
    options.onRefused(status, message);
    answer(res, status, { Code: code, Message: message }, extra);
  };
  return (req, res) => {
    const port = options.port();
    const host = (req.headers.host ?? '').toLowerCase();
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      return refuse(res, 403, 'Forbidden', `Host must be 127.0.0.1:${port} or localhost:${port}`);
    }
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (url.pathname !== CREDENTIALS_PATH) return refuse(res, 404, 'NotFound', `credentials are served at ${CREDENTIALS_PATH}`);
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    const given = url.searchParams.get('token') ?? bearer;
    if (given === undefined || given === null || !timingSafeEqual(digest(given), expected)) {
      return refuse(res, 401, 'Unauthorized', 'a valid token is required', { 'WWW-Authenticate': 'Bearer' });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'MethodNotAllowed', 'use GET', { Allow: 'GET, HEAD' });
    options.provider().then(
      (credentials) => {
        if (!isTemporary(credentials)) {
          return refuse(res, 500, 'NotTemporary', 'the credentials resolved are long-lived; they are never served');
        }
        answer(res, 200, credentialsUriBody(credentials));
      },
      (error: unknown) => {
        // alicred's messages carry no secret; anything else is not quoted.
        const message = isCredentialsError(error) ? oneLine(error.message) : 'credentials could not be resolved';
        refuse(res, 503, isCredentialsError(error) ? error.code : 'CredentialsUnavailable', message);
      },
    );
  };
}

/** Writes `text` to `path` with mode 0600: a new file in the same folder, renamed over it. */
async function writePrivateFile(path: string, text: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(text);
    await handle.chmod(0o600);
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolvePort((server.address() as AddressInfo).port);
    });
  });
}

export async function serveCommand(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const values = parseCommandArgs(argv, { ...IDENTITY_OPTIONS, port: { type: 'string' }, 'token-file': { type: 'string' } });
  const { output } = ctx;
  if (values.help) {
    output.out(SERVE_HELP);
    return EXIT.ok;
  }
  const requestedPort = portOption(values, 0);
  const tokenFileOption = stringOption(values, 'token-file');
  const tokenFile = tokenFileOption === undefined ? undefined : resolve(tokenFileOption);
  const roleArn = stringOption(values, 'role-arn');
  const provider = commandProvider({ profile: stringOption(values, 'profile'), roleArn, env: ctx.env, logger: ctx.logger });
  let server: Server | undefined;
  let wroteTokenFile = false;
  try {
    const first = await output.progress('resolving credentials', provider());
    const source = describeSource(first, provider.link(), roleArn);
    if (!isTemporary(first)) {
      throw new CliError(`refusing to serve long-lived AccessKey credentials (from ${source}): pass --role-arn to serve a role's temporary credentials`);
    }
    // From here on SIGTERM / SIGINT end the command through the cleanup below (token file included).
    const stopping = ctx.stopped();
    const token = randomBytes(32).toString('base64url');
    let port = 0;
    server = createServer(
      credentialsHandler({
        token,
        port: () => port,
        provider,
        onRefused: (status, why) => output.note(`refused a request (${status}: ${why})`),
      }),
    );
    server.on('clientError', (_error, socket) => socket.destroy());
    try {
      port = await listen(server, requestedPort);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new CliError(`cannot listen on 127.0.0.1:${requestedPort}${typeof code === 'string' ? ` (${code})` : ''}`);
    }
    const uri = `http://127.0.0.1:${port}${CREDENTIALS_PATH}?token=${token}`;
    if (tokenFile !== undefined) {
      try {
        await writePrivateFile(tokenFile, `${uri}\n`);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        throw new CliError(`cannot write the token file ${tokenFile}${typeof code === 'string' ? ` (${code})` : ''}`);
      }
      wroteTokenFile = true;
      output.note(`serving ${source} credentials on http://127.0.0.1:${port}${CREDENTIALS_PATH}; the URI (with its token) is in ${tokenFile}`);
    } else {
      output.out(uri);
      output.note(`serving ${source} credentials on http://127.0.0.1:${port}${CREDENTIALS_PATH}; stop with Ctrl-C`);
    }
    const signal = await stopping;
    output.note(`${signal}: stopping`);
    return EXIT.ok;
  } finally {
    provider.close();
    if (server !== undefined) {
      const closing = new Promise<void>((done) => server!.close(() => done()));
      server.closeAllConnections();
      await closing;
    }
    if (wroteTokenFile && tokenFile !== undefined) await rm(tokenFile, { force: true });
  }
}
