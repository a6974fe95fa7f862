import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createCredentials, fromStatic, refreshing } from '../src/index.js';
import { toTeaCredential } from '../src/adapters/tea.js';
import { fakeCredentialSource } from '../src/testing/index.js';

type Model = { accessKeyId: string; accessKeySecret: string; securityToken?: string; type: string; providerName: string };
type Legacy = {
  getCredential(): Promise<Model>;
  getAccessKeyId(): Promise<string>;
  getAccessKeySecret(): Promise<string>;
  getSecurityToken(): Promise<string>;
  getBearerToken(): string;
  getType(): string;
};
const legacy = (c: unknown) => c as Legacy;

describe('toTeaCredential', () => {
  it('answers getCredential() with one snapshot of STS credentials', async () => {
    const tea = legacy(toTeaCredential(refreshing(fakeCredentialSource({ lifetimeMs: 3_600_000 }), { backgroundTimer: false })));
    const model = await tea.getCredential();
    expect({ ...model, accessKeySecret: model.accessKeySecret, securityToken: model.securityToken }).toEqual({
      accessKeyId: 'STS.fake-1',
      accessKeySecret: 'secret-fake-1',
      securityToken: 'token-fake-1',
      type: 'sts',
      providerName: 'alicred/fake',
    });
    // The same frozen model until the credential changes; its secret and token never print.
    expect(await tea.getCredential()).toBe(model);
    expect(Object.isFrozen(model)).toBe(true);
    for (const printed of [JSON.stringify(model), inspect(model), JSON.stringify({ ...model })]) {
      expect(printed).not.toContain('secret-fake-1');
      expect(printed).not.toContain('token-fake-1');
    }
    expect(tea.getType()).toBe('sts');
    expect(tea.getBearerToken()).toBe('');
  });

  it('reports long-lived keys as access_key without a token', async () => {
    const tea = legacy(toTeaCredential(fromStatic({ accessKeyId: 'LTAI5tKey', accessKeySecret: 'secret' })));
    const model = await tea.getCredential();
    expect(model.type).toBe('access_key');
    expect(model).not.toHaveProperty('securityToken');
    expect(await tea.getSecurityToken()).toBe('');
    expect(tea.getType()).toBe('access_key');
  });

  it('the deprecated getters answer from one snapshot, even if the provider changed in between', async () => {
    // A source that rotates on every call is the worst case for torn reads.
    const rotating = fakeCredentialSource({ lifetimeMs: 3_600_000 });
    const tea = legacy(toTeaCredential(rotating));
    const id = await tea.getAccessKeyId();
    await rotating(); // a refresh lands between the three awaits
    const secret = await tea.getAccessKeySecret();
    const token = await tea.getSecurityToken();
    const n = id.split('-').at(-1);
    expect([secret, token]).toEqual([`secret-fake-${n}`, `token-fake-${n}`]);
  });

  it('concurrent legacy requests never mix two key pairs', async () => {
    const rotating = fakeCredentialSource({ lifetimeMs: 3_600_000 });
    const tea = legacy(toTeaCredential(rotating));
    const request = async () => {
      const id = await tea.getAccessKeyId();
      await rotating(); // another refresh between every pair of awaits
      const secret = await tea.getAccessKeySecret();
      await rotating();
      const token = await tea.getSecurityToken();
      return [id, secret, token].map((v) => v.split('-').at(-1));
    };
    const results = await Promise.all(Array.from({ length: 20 }, request));
    for (const [a, b, c] of results) expect([b, c]).toEqual([a, a]);
  });

  it('replaces the snapshot when it nears expiry', async () => {
    let now = Date.UTC(2026, 0, 1);
    let issued = 0;
    const provider = async () =>
      createCredentials({ accessKeyId: `STS.k${++issued}`, accessKeySecret: `s${issued}`, securityToken: `t${issued}`, expiration: new Date(now + 120_000), source: 'x' });
    const tea = legacy(toTeaCredential(provider, { clock: () => now }));
    const request = async () => [await tea.getAccessKeyId(), await tea.getAccessKeySecret(), await tea.getSecurityToken()];
    expect(await request()).toEqual(['STS.k1', 's1', 't1']);
    expect(await request()).toEqual(['STS.k1', 's1', 't1']);
    now += 61_000; // 59 s left: under the one-minute margin
    expect(await request()).toEqual(['STS.k2', 's2', 't2']);
  });

  it('a request between its getters keeps its pair when another request crosses the margin', async () => {
    let now = Date.UTC(2026, 0, 1);
    let issued = 0;
    const provider = async () =>
      createCredentials({ accessKeyId: `STS.k${++issued}`, accessKeySecret: `s${issued}`, securityToken: `t${issued}`, expiration: new Date(now + 120_000), source: 'x' });
    const tea = legacy(toTeaCredential(provider, { clock: () => now }));
    await tea.getAccessKeyId();
    await tea.getAccessKeySecret();
    await tea.getSecurityToken(); // a first request takes the snapshot k1
    now += 59_000; // 61 s left
    const idA = await tea.getAccessKeyId(); // request A starts
    now += 2_000; // 59 s left: B's first getter is past the margin
    const idB = await tea.getAccessKeyId();
    const secretB = await tea.getAccessKeySecret(); // B even reads ahead of A
    const secretA = await tea.getAccessKeySecret();
    const tokenA = await tea.getSecurityToken();
    const tokenB = await tea.getSecurityToken();
    expect([idA, secretA, tokenA]).toEqual(['STS.k1', 's1', 't1']);
    expect([idB, secretB, tokenB]).toEqual(['STS.k1', 's1', 't1']); // still 59 s valid
    // With no request mid-way, the next one gets the new pair, whole.
    expect([await tea.getAccessKeyId(), await tea.getAccessKeySecret(), await tea.getSecurityToken()]).toEqual(['STS.k2', 's2', 't2']);
  });

  it('every interleaving of two requests across the margin gives each a consistent triple', async () => {
    // All orders of A's and B's three getters (each request's own order fixed), clock moved
    // past the margin right after A's first getter.
    const steps = ['A', 'A', 'A', 'B', 'B', 'B'];
    const orders = new Set<string>();
    const permute = (rest: string[], acc: string) => {
      if (rest.length === 0) return orders.add(acc);
      new Set(rest).forEach((x) => permute(rest.filter((_, i) => i !== rest.indexOf(x)), acc + x));
    };
    permute(steps, '');
    expect(orders.size).toBe(20);
    for (const order of orders) {
      let now = Date.UTC(2026, 0, 1);
      let issued = 0;
      const provider = async () =>
        createCredentials({ accessKeyId: `STS.k${++issued}`, accessKeySecret: `s${issued}`, securityToken: `t${issued}`, expiration: new Date(now + 120_000), source: 'x' });
      const tea = legacy(toTeaCredential(provider, { clock: () => now }));
      await tea.getAccessKeyId();
      await tea.getAccessKeySecret();
      await tea.getSecurityToken(); // a first request takes the snapshot k1
      now += 59_500; // 60.5 s left
      const got: Record<string, string[]> = { A: [], B: [] };
      const getters = [tea.getAccessKeyId, tea.getAccessKeySecret, tea.getSecurityToken];
      for (const who of order) {
        const value = await getters[got[who]!.length]!();
        got[who]!.push(value.replace(/^STS\.k|^s|^t/, ''));
        if (who === 'A' && got.A!.length === 1) now += 1_000; // 59.5 s left from here on
      }
      expect(new Set(got.A).size, `${order}: A ${got.A}`).toBe(1);
      expect(new Set(got.B).size, `${order}: B ${got.B}`).toBe(1);
    }
  });

  it('does not answer from an expired snapshot', async () => {
    let now = Date.UTC(2026, 0, 1);
    let issued = 0;
    const provider = async () =>
      createCredentials({
        accessKeyId: `STS.k${++issued}`,
        accessKeySecret: `s${issued}`,
        securityToken: `t${issued}`,
        expiration: new Date(now + 1000),
        source: 'x',
      });
    const tea = legacy(toTeaCredential(provider, { clock: () => now }));
    await tea.getAccessKeyId();
    now += 2000;
    expect(await tea.getAccessKeySecret()).toBe('s2');
  });

  it('keeps providerName header-safe and lets it be set', async () => {
    const odd = async () => createCredentials({ accessKeyId: 'a', accessKeySecret: 'b', source: 'my source\r\nX: y' });
    expect((await legacy(toTeaCredential(odd)).getCredential()).providerName).toBe('alicred/my_source__X:_y');
    expect((await legacy(toTeaCredential(odd, { providerName: 'billing-app' })).getCredential()).providerName).toBe('billing-app');
  });
});
