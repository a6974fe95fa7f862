// Issue 7, item 4: a stale `Date` must not lengthen a credential. The server's "now" is
// Date + Age, and every lifetime is cut to what was asked for (STS DurationSeconds) or to
// 12 h (credentials URI, ECS metadata), with a warning.
import { describe, it, expect, afterEach } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCredentials } from '../src/credentials.js';
import { fromCredentialsUri } from '../src/providers/credentials-uri.js';
import { fromEcsMetadata } from '../src/providers/ecs-metadata.js';
import { fromOidc } from '../src/providers/oidc.js';
import { fromRamRole } from '../src/providers/ram-role.js';
import { fromStatic } from '../src/providers/static.js';
import { createStsClient } from '../src/sts/client.js';
import { boundedLocalExpiration, parseAge, parseHttpDate } from '../src/sts/time.js';
import type { Logger } from '../src/types.js';

const ROLE_ARN = 'acs:ram::123456789012:role/test-role';
const SECRET = 'SkewSourceSecret0123456789';
const NEW_SECRET = 'SkewIssuedSecret0123456789';
const NEW_TOKEN = 'CAISSkewIssuedToken0123456789';
const user = createCredentials({ accessKeyId: 'LTAI5tSkewUser', accessKeySecret: SECRET, source: 'test' });
const MIN = 60_000;
const HOUR = 3600_000;
const YEAR = 365 * 24 * HOUR;

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const httpDate = (ms: number) => new Date(ms).toUTCString();

type Reply = { expiration: number; date?: string; age?: string; sts?: boolean };
let reply: () => Reply = () => ({ expiration: Date.now() + HOUR });
const servers: Server[] = [];

afterEach(async () => {
  reply = () => ({ expiration: Date.now() + HOUR });
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** One loopback server for STS, the credentials URI and ECS metadata alike. */
async function serve(): Promise<string> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'PUT') return void res.end('skew-metadata-token');
      const r = reply();
      if (r.date === undefined) res.sendDate = false;
      else res.setHeader('Date', r.date);
      if (r.age !== undefined) res.setHeader('Age', r.age);
      const creds = { AccessKeyId: 'STS.SkewIssued', AccessKeySecret: NEW_SECRET, SecurityToken: NEW_TOKEN, Expiration: iso(r.expiration) };
      const body = req.url?.startsWith('/latest/') ? { Code: 'Success', ...creds } : req.url?.startsWith('/creds') ? creds : { RequestId: 'R-SKEW', Credentials: creds };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (message: string) => void warnings.push(message) };
}

function expectNoSecret(texts: string[]): void {
  for (const t of texts) for (const s of [SECRET, NEW_SECRET, NEW_TOKEN]) expect(t).not.toContain(s);
}

async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}

describe('STS: Date + Age, and the DurationSeconds ceiling', () => {
  it('a cache replaying a 50-minute-old answer (original Date, Age: 3000): 9 minutes left, not 59', async () => {
    const endpoint = await serve();
    const answeredAt = Date.now() - 50 * MIN;
    reply = () => ({ date: httpDate(answeredAt), age: '3000', expiration: answeredAt + HOUR });
    const result = await createStsClient({ endpoint, env: {} }).assumeRoleDetailed(user, { roleArn: ROLE_ARN, roleSessionName: 'skew' });
    const left = result.credentials.expiration!.getTime() - Date.now();
    expect(left).toBeGreaterThan(8 * MIN);
    expect(left).toBeLessThan(11 * MIN);
    expect(result.clockSkewMs).toBe(0);
  });

  it('a Date a year old: the 1 h credential stays 1 h (not 8761 h), with a warning that names the lifetimes', async () => {
    const endpoint = await serve();
    const old = Date.now() - YEAR;
    reply = () => ({ date: httpDate(old), expiration: Date.now() + HOUR });
    const logger = recordingLogger();
    const result = await createStsClient({ endpoint, env: {}, logger }).assumeRoleDetailed(user, { roleArn: ROLE_ARN, roleSessionName: 'skew' });
    const left = result.credentials.expiration!.getTime() - Date.now();
    expect(left).toBeLessThanOrEqual(HOUR);
    expect(left).toBeGreaterThan(HOUR - 5_000);
    expect(result.clockSkewMs).toBeLessThan(-YEAR + 10_000);
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toMatch(/sts AssumeRole/);
    expect(logger.warnings[0]).toMatch(/lifetime of 3153\d{4} s \(876\d\.\d h\)/);
    expect(logger.warnings[0]).toMatch(/using 3600 s \(1\.0 h\)/);
    expectNoSecret(logger.warnings);
  });

  it('a logger that throws does not break the call', async () => {
    const endpoint = await serve();
    reply = () => ({ date: httpDate(Date.now() - YEAR), expiration: Date.now() + HOUR });
    const logger: Logger = { warn: () => { throw new Error('closed stream'); } };
    const creds = await createStsClient({ endpoint, env: {}, logger }).assumeRole(user, { roleArn: ROLE_ARN, roleSessionName: 'skew' });
    expect(creds.expiration!.getTime() - Date.now()).toBeLessThanOrEqual(HOUR);
  });

  it('an answer longer than the DurationSeconds asked for is cut to it (no Date header at all)', async () => {
    const endpoint = await serve();
    reply = () => ({ expiration: Date.now() + 5 * HOUR });
    const logger = recordingLogger();
    const creds = await createStsClient({ endpoint, env: {}, logger }).assumeRole(user, { roleArn: ROLE_ARN, roleSessionName: 'skew', durationSeconds: 900 });
    expect(creds.expiration!.getTime() - Date.now()).toBeLessThanOrEqual(900_000);
    expect(logger.warnings[0]).toMatch(/using 900 s/);
  });

  it('a difference within the Date resolution is not worth a warning', async () => {
    const endpoint = await serve();
    reply = () => ({ date: httpDate(Date.now() + 1000), expiration: Date.now() + 1000 + HOUR });
    const logger = recordingLogger();
    const creds = await createStsClient({ endpoint, env: {}, logger }).assumeRole(user, { roleArn: ROLE_ARN, roleSessionName: 'skew' });
    expect(creds.expiration!.getTime() - Date.now()).toBeLessThanOrEqual(HOUR);
    expect(logger.warnings).toEqual([]);
  });

  it('a garbage Date (which Date.parse reads as 2001) is ignored, not trusted', async () => {
    const endpoint = await serve();
    const expiration = Date.now() + 30 * MIN;
    reply = () => ({ date: '1', expiration });
    const result = await createStsClient({ endpoint, env: {} }).assumeRoleDetailed(user, { roleArn: ROLE_ARN, roleSessionName: 'skew' });
    expect(Math.abs(result.credentials.expiration!.getTime() - expiration)).toBeLessThan(1000);
    expect(result.serverDate).toBeUndefined();
    expect(result.clockSkewMs).toBe(0);
  });

  it('a Date in the future only shortens; past after correction is refused by the provider', async () => {
    const endpoint = await serve();
    reply = () => ({ date: httpDate(Date.now() + 2 * HOUR), expiration: Date.now() + HOUR });
    const provider = fromRamRole({ source: fromStatic({ accessKeyId: 'LTAI5tSkewUser', accessKeySecret: SECRET }), roleArn: ROLE_ARN, sts: { endpoint, env: {} }, cache: false, refresh: { retry: false } });
    const error = await rejection(provider());
    provider.close();
    expect(error).toMatchObject({ code: 'ExpiredCredentials' });
    expectNoSecret([String(error), error.message]);
  });

  it('fromRamRole and fromOidc hand refresh.logger to the client they create', async () => {
    const endpoint = await serve();
    const old = Date.now() - YEAR;
    reply = () => ({ date: httpDate(old), expiration: Date.now() + HOUR });
    const logger = recordingLogger();
    const ram = fromRamRole({ source: fromStatic({ accessKeyId: 'LTAI5tSkewUser', accessKeySecret: SECRET }), roleArn: ROLE_ARN, sts: { endpoint, env: {} }, cache: false, refresh: { logger } });
    const oidc = fromOidc({
      roleArn: ROLE_ARN,
      oidcProviderArn: 'acs:ram::123456789012:oidc-provider/skew',
      token: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln',
      sts: { endpoint, env: {} },
      cache: false,
      refresh: { logger },
    });
    for (const provider of [ram, oidc]) {
      const creds = await provider();
      provider.close();
      expect(creds.expiration!.getTime() - Date.now()).toBeLessThanOrEqual(HOUR);
    }
    expect(logger.warnings.filter((w) => /sts AssumeRole:/.test(w))).toHaveLength(1);
    expect(logger.warnings.filter((w) => /sts AssumeRoleWithOIDC:/.test(w))).toHaveLength(1);
    expectNoSecret(logger.warnings);
  });
});

describe('credentials URI and ECS metadata: Date + Age, and the 12 h ceiling', () => {
  it('credentials URI: a replayed answer (Age) keeps its true 9 minutes', async () => {
    const base = await serve();
    const answeredAt = Date.now() - 50 * MIN;
    reply = () => ({ date: httpDate(answeredAt), age: '3000', expiration: answeredAt + HOUR });
    const provider = fromCredentialsUri({ uri: `${base}/creds` });
    const creds = await provider();
    provider.close();
    const left = creds.expiration!.getTime() - Date.now();
    expect(left).toBeGreaterThan(8 * MIN);
    expect(left).toBeLessThan(11 * MIN);
  });

  it('credentials URI: a year-old Date is cut to 12 h with a warning', async () => {
    const base = await serve();
    const old = Date.now() - YEAR;
    reply = () => ({ date: httpDate(old), expiration: Date.now() + HOUR });
    const logger = recordingLogger();
    const provider = fromCredentialsUri({ uri: `${base}/creds?token=skew-query-token`, refresh: { logger } });
    const creds = await provider();
    provider.close();
    expect(creds.expiration!.getTime() - Date.now()).toBeLessThanOrEqual(12 * HOUR);
    expect(creds.expiration!.getTime() - Date.now()).toBeGreaterThan(12 * HOUR - 5_000);
    const warning = logger.warnings.find((w) => w.includes('fromCredentialsUri'));
    expect(warning).toMatch(/lifetime of \d+ s \(876\d\.\d h\).*using 43200 s \(12\.0 h\)/);
    expect(warning).not.toContain('skew-query-token');
    expectNoSecret(logger.warnings);
  });

  it('ECS metadata: a stale Date with Age is read right; a year-old one is cut to 12 h, warned through options.logger', async () => {
    const endpoint = await serve();
    const answeredAt = Date.now() - 50 * MIN;
    reply = () => ({ date: httpDate(answeredAt), age: '3000', expiration: answeredAt + 6 * HOUR });
    const first = fromEcsMetadata({ endpoint, roleName: 'app-role', env: {} });
    const left = (await first()).expiration!.getTime() - Date.now();
    first.close();
    expect(left).toBeGreaterThan(5 * HOUR);
    expect(left).toBeLessThan(5 * HOUR + 15 * MIN);

    const old = Date.now() - YEAR;
    reply = () => ({ date: httpDate(old), expiration: Date.now() + 6 * HOUR });
    const logger = recordingLogger();
    const second = fromEcsMetadata({ endpoint, roleName: 'app-role', env: {}, logger });
    const creds = await second();
    second.close();
    expect(creds.expiration!.getTime() - Date.now()).toBeLessThanOrEqual(12 * HOUR);
    expect(logger.warnings.some((w) => /fromEcsMetadata.*using 43200 s/.test(w))).toBe(true);
    expectNoSecret(logger.warnings);
  });

  it('a huge Age marks the answer as expired: refused, never served', async () => {
    const base = await serve();
    reply = () => ({ date: httpDate(Date.now()), age: '99999999999', expiration: Date.now() + HOUR });
    const provider = fromCredentialsUri({ uri: `${base}/creds`, refresh: { retry: false } });
    const error = await rejection(provider());
    provider.close();
    expect(error).toMatchObject({ code: 'ExpiredCredentials' });
    expect(provider.peek()).toBeUndefined();
  });
});

describe('time helpers', () => {
  it('parseAge: non-negative integer seconds; malformed ignored; huge capped at 2^31', () => {
    expect(parseAge('3000')).toBe(3000);
    expect(parseAge(' 0 ')).toBe(0);
    for (const bad of ['-5', '1.5', 'abc', '10, 20', '', null, undefined]) expect(parseAge(bad)).toBeUndefined();
    expect(parseAge('99999999999999')).toBe(2 ** 31);
  });

  it('parseHttpDate: the three RFC 9110 forms only', () => {
    const t = Date.UTC(1994, 10, 6, 8, 49, 37);
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(t);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(Date.UTC(2094, 10, 6, 8, 49, 37));
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(t);
    for (const bad of ['1', 'Sun, 06 Nov 1994 08:49:37', '2025-01-15T08:00:00Z', 'Sun, 31 Feb 1994 08:49:37 GMT', 'x'.repeat(100)]) {
      expect(parseHttpDate(bad)).toBeUndefined();
    }
  });

  it('boundedLocalExpiration: Date + Age, then the ceiling; a past expiration stays past', () => {
    const now = Date.UTC(2025, 0, 15, 8);
    const replay = boundedLocalExpiration({ expiration: now + 9 * MIN, serverDate: now - 50 * MIN, ageSeconds: 3000, localNow: now, maxLifetimeMs: HOUR });
    expect(replay).toEqual({ expiresAt: now + 9 * MIN, clockSkewMs: 0, lifetimeMs: 9 * MIN, clamped: false });
    // A Date a year old in front of a true 1 h Expiration: 8761 h after correction, cut to 1 h.
    const stale = boundedLocalExpiration({ expiration: now + HOUR, serverDate: now - YEAR, localNow: now, maxLifetimeMs: HOUR });
    expect(stale).toEqual({ expiresAt: now + HOUR, clockSkewMs: -YEAR, lifetimeMs: YEAR + HOUR, clamped: true });
    const past = boundedLocalExpiration({ expiration: now - MIN, serverDate: undefined, localNow: now, maxLifetimeMs: HOUR });
    expect(past.expiresAt).toBe(now - MIN);
  });
});
