// Redaction on the built package: no printed form of a credential (JSON.stringify, String, a
// template literal, nested in other values) shows its secret or token, in any runtime; the
// values themselves stay readable for signing, and toPlainCredentials hands them out on purpose.
import { createCredentials, createStsClient, fromEnv, fromRamRole, fromStatic, isCredentials, refreshing, toPlainCredentials } from 'alicred';
import { describe, expect, it } from 'vitest';
import { context } from './context.js';

const SECRET = 'redaction-secret-0123456789abcdefXYZ';
const TOKEN = 'redaction-token-0123456789abcdefXYZ';

/** Every printed form of a value, as the browser console, a logger or a JSON API would make. */
function printedForms(value) {
  return [
    JSON.stringify(value),
    JSON.stringify({ nested: [value], again: { value } }),
    JSON.stringify(value, null, 2),
    String(value),
    `${value}`,
    [value].join(','),
    JSON.stringify(Object.assign({}, { c: value })),
  ];
}

function expectRedacted(credentials, secrets) {
  for (const form of printedForms(credentials)) {
    for (const secret of secrets) expect(form.includes(secret), `a printed form shows a secret: ${form}`).toBe(false);
  }
  expect(JSON.parse(JSON.stringify(credentials)).accessKeySecret).toBe('[REDACTED]');
  expect(String(credentials)).toContain('[REDACTED]');
}

describe('redaction', () => {
  it('createCredentials: printed forms redact the secret and token; property access gives them', () => {
    const c = createCredentials({ accessKeyId: 'LTAI5tRedaction0001', accessKeySecret: SECRET, securityToken: TOKEN, source: 'mine' });
    expectRedacted(c, [SECRET, TOKEN]);
    const json = JSON.parse(JSON.stringify(c));
    expect(json).toMatchObject({ accessKeyId: 'LTAI5tRedaction0001', accessKeySecret: '[REDACTED]', securityToken: '[REDACTED]', source: 'mine' });
    expect(c.accessKeySecret).toBe(SECRET);
    expect(c.securityToken).toBe(TOKEN);
    expect(isCredentials(c)).toBe(true);
    expect(Object.isFrozen(c)).toBe(true);
    // toPlainCredentials is the deliberate way out, for clients that take separate options.
    expect(toPlainCredentials(c)).toMatchObject({ accessKeyId: 'LTAI5tRedaction0001', accessKeySecret: SECRET, securityToken: TOKEN });
  });

  it('fromStatic, fromEnv (an env object) and refreshing: every result is redacted', async () => {
    const keys = { accessKeyId: 'LTAI5tRedaction0002', accessKeySecret: SECRET };
    const env = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI5tRedaction0003', ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET, ALIBABA_CLOUD_SECURITY_TOKEN: TOKEN };
    const wrapped = refreshing(async () => createCredentials({ ...keys, securityToken: TOKEN, expiration: new Date(Date.now() + 3_600_000), source: 'wrapped' }), {
      backgroundTimer: false,
    });
    try {
      for (const c of [await fromStatic(keys)(), await fromEnv({ env })(), await wrapped()]) expectRedacted(c, [SECRET, TOKEN]);
    } finally {
      wrapped.close();
    }
  });

  it('STS results (AssumeRole against the emulator) are redacted, as are the detailed result and the provider', async () => {
    const ctx = context();
    const sts = createStsClient({ endpoint: ctx.stsEndpoint });
    const user = await fromStatic(ctx.user)();
    const detailed = await sts.assumeRoleDetailed(user, { roleArn: ctx.roleArn, roleSessionName: `redaction-${ctx.runtime}` });
    const c = detailed.credentials;
    expectRedacted(c, [c.accessKeySecret, c.securityToken, ctx.user.accessKeySecret]);
    for (const form of printedForms(detailed)) {
      expect(form.includes(c.accessKeySecret)).toBe(false);
      expect(form.includes(c.securityToken)).toBe(false);
    }
    const provider = fromRamRole({ source: fromStatic(ctx.user), roleArn: ctx.roleArn, roleSessionName: `redaction-p-${ctx.runtime}`, sts: { endpoint: ctx.stsEndpoint }, cache: false });
    try {
      const p = await provider();
      expectRedacted(p, [p.accessKeySecret, p.securityToken, ctx.user.accessKeySecret]);
      for (const form of printedForms(provider)) expect(form === undefined || !form.includes(ctx.user.accessKeySecret)).toBe(true);
    } finally {
      provider.close();
    }
  });

  it('an error about a bad source value does not quote the value', async () => {
    const provider = refreshing(async () => ({ accessKeyId: 7, accessKeySecret: SECRET }), { backgroundTimer: false, retry: false });
    const error = await provider().then(() => undefined, (e) => e);
    expect(error?.code).toBe('InvalidCredentials');
    for (const text of [String(error.message), String(error.stack ?? ''), JSON.stringify(error), String(error)]) expect(text.includes(SECRET)).toBe(false);
  });
});
