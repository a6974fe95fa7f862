// The STS client and fromRamRole on the built package against the emulator (started by the
// host; its URL comes in the context). The emulator recomputes every signature with its own
// node:crypto verifier, so a runtime whose WebCrypto or encoding differs fails here.
import { StsError, createStsCache, createStsClient, fromRamRole, fromStatic } from 'alicred';
import { describe, expect, it } from 'vitest';
import { context } from './context.js';

/** A fetch that counts the requests it passes on. */
function countingFetch() {
  const counter = { calls: 0, actions: [] };
  counter.fetch = (input, init) => {
    counter.calls++;
    const headers = init?.headers ?? {};
    counter.actions.push(headers['x-acs-action'] ?? new URL(String(input)).searchParams.get('Action') ?? '?');
    return globalThis.fetch(input, init);
  };
  return counter;
}

const session = (name) => `${name}-${context().runtime}`;

describe('STS client against the emulator', () => {
  it('V3: AssumeRole with a RAM user key, then GetCallerIdentity with the temporary credentials', async () => {
    const ctx = context();
    const sts = createStsClient({ endpoint: ctx.stsEndpoint });
    const user = await fromStatic(ctx.user)();
    const result = await sts.assumeRoleDetailed(user, { roleArn: ctx.roleArn, roleSessionName: session('v3'), durationSeconds: 900 });
    const c = result.credentials;
    expect(c.accessKeyId).toMatch(/^STS\./);
    expect(typeof c.accessKeySecret).toBe('string');
    expect(c.securityToken.length).toBeGreaterThan(10);
    expect(c.source).toBe('sts:AssumeRole');
    const left = c.expiration.getTime() - Date.now();
    expect(left).toBeGreaterThan(800_000);
    expect(left).toBeLessThanOrEqual(900_000 + 5_000);
    expect(result.assumedRoleUser.arn).toBe(`${ctx.roleArn}/${session('v3')}`);
    expect(result.requestId.length).toBeGreaterThan(0);

    const who = await sts.getCallerIdentity(c);
    expect(who.identityType).toBe('AssumedRoleUser');
    expect(who.arn).toContain(`:assumed-role/${ctx.roleArn.split('/').pop()}/${session('v3')}`);
  });

  it('V1 (HMAC-SHA1, form body): AssumeRole is accepted too', async () => {
    const ctx = context();
    const sts = createStsClient({ endpoint: ctx.stsEndpoint, signatureVersion: 'v1' });
    const c = await sts.assumeRole(await fromStatic(ctx.user)(), { roleArn: ctx.roleArn, roleSessionName: session('v1') });
    expect(c.accessKeyId).toMatch(/^STS\./);
    const who = await sts.getCallerIdentity(c);
    expect(who.arn).toContain(session('v1'));
  });

  it('role chaining: STS credentials (with their token) sign the next call', async () => {
    const ctx = context();
    const sts = createStsClient({ endpoint: ctx.stsEndpoint });
    const first = await sts.assumeRole(await fromStatic(ctx.user)(), { roleArn: ctx.roleArn, roleSessionName: session('hop1') });
    const who = await sts.getCallerIdentity(first);
    expect(who.arn).toContain(session('hop1'));
  });

  it('an untrusted role: StsError NoPermission, not retryable, no secret in the message', async () => {
    const ctx = context();
    const sts = createStsClient({ endpoint: ctx.stsEndpoint });
    const error = await sts
      .assumeRole(await fromStatic(ctx.user)(), { roleArn: ctx.untrustedRoleArn, roleSessionName: session('denied') })
      .then(() => undefined, (e) => e);
    expect(error instanceof StsError).toBe(true);
    expect(error.code).toMatch(/^NoPermission/);
    expect(error.retryable).toBe(false);
    expect(error.httpStatus).toBe(403);
    expect(String(error.message)).not.toContain(ctx.user.accessKeySecret);
    expect(JSON.stringify(error)).not.toContain(ctx.user.accessKeySecret);
  });

  it('a wrong secret: SignatureDoesNotMatch, and neither secret shows in the error', async () => {
    const ctx = context();
    const sts = createStsClient({ endpoint: ctx.stsEndpoint });
    const wrongSecret = `${ctx.user.accessKeySecret}-wrong`;
    const error = await sts
      .assumeRole(await fromStatic({ accessKeyId: ctx.user.accessKeyId, accessKeySecret: wrongSecret })(), {
        roleArn: ctx.roleArn,
        roleSessionName: session('badsig'),
      })
      .then(() => undefined, (e) => e);
    expect(error instanceof StsError).toBe(true);
    expect(error.code).toBe('SignatureDoesNotMatch');
    for (const text of [String(error.message), String(error.stack ?? ''), JSON.stringify(error)]) {
      expect(text).not.toContain(wrongSecret);
      expect(text).not.toContain(ctx.user.accessKeySecret);
    }
  });

  it('fromRamRole: 30 concurrent calls, one AssumeRole; the credentials work; peek answers from cache', async () => {
    const ctx = context();
    const counter = countingFetch();
    const provider = fromRamRole({
      source: fromStatic(ctx.user),
      roleArn: ctx.roleArn,
      roleSessionName: session('ram-role'),
      durationSeconds: 900,
      sts: { endpoint: ctx.stsEndpoint, fetch: counter.fetch },
      cache: createStsCache(),
    });
    try {
      const results = await Promise.all(Array.from({ length: 30 }, () => provider()));
      expect(counter.actions).toEqual(['AssumeRole']);
      expect(results.every((c) => c === results[0])).toBe(true);
      expect(provider.peek()).toBe(results[0]);
      expect(await provider()).toBe(results[0]);
      expect(counter.calls).toBe(1);
      const who = await createStsClient({ endpoint: ctx.stsEndpoint }).getCallerIdentity(results[0]);
      expect(who.arn).toContain(session('ram-role'));
    } finally {
      provider.close();
    }
  });

  it('fromRamRole: two providers for the same role and session share one STS cache entry', async () => {
    const ctx = context();
    const counter = countingFetch();
    const cache = createStsCache();
    const make = () =>
      fromRamRole({
        source: fromStatic(ctx.user),
        roleArn: ctx.roleArn,
        roleSessionName: session('shared'),
        durationSeconds: 900,
        sts: { endpoint: ctx.stsEndpoint, fetch: counter.fetch },
        cache,
      });
    const a = make();
    const b = make();
    try {
      const [ca, cb] = await Promise.all([a(), b()]);
      expect(ca.accessKeyId).toBe(cb.accessKeyId);
      expect(counter.calls).toBe(1);
    } finally {
      a.close();
      b.close();
    }
  });

  it('fromRamRole: a refused role is a typed error, and a retry does not hammer STS', async () => {
    const ctx = context();
    const counter = countingFetch();
    const provider = fromRamRole({
      source: fromStatic(ctx.user),
      roleArn: ctx.untrustedRoleArn,
      roleSessionName: session('refused'),
      sts: { endpoint: ctx.stsEndpoint, fetch: counter.fetch },
      cache: false,
    });
    try {
      const error = await provider().then(() => undefined, (e) => e);
      expect(error?.code).toMatch(/^NoPermission/);
      expect(counter.calls).toBe(1); // not retried: permission errors are final
    } finally {
      provider.close();
    }
  });
});
