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
    expect(model).toEqual({
      accessKeyId: 'STS.fake-1',
      accessKeySecret: 'secret-fake-1',
      securityToken: 'token-fake-1',
      type: 'sts',
      providerName: 'alicred/fake',
    });
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

  it('the deprecated getters answer from the snapshot getAccessKeyId took, even if the provider changed in between', async () => {
    // A source that rotates on every call is the worst case for torn reads.
    const rotating = fakeCredentialSource({ lifetimeMs: 3_600_000 });
    const tea = legacy(toTeaCredential(rotating));
    const id = await tea.getAccessKeyId();
    await rotating(); // a refresh lands between the three awaits
    const secret = await tea.getAccessKeySecret();
    const token = await tea.getSecurityToken();
    const n = id.split('-').at(-1);
    expect([secret, token]).toEqual([`secret-fake-${n}`, `token-fake-${n}`]);
    // The next request's trio starts a new snapshot.
    const id2 = await tea.getAccessKeyId();
    expect(id2).not.toBe(id);
    expect(await tea.getAccessKeySecret()).toBe(`secret-fake-${id2.split('-').at(-1)}`);
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
