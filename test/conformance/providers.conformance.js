// fromCredentialsUri and fromOidc on the built package against the emulator: the credentials
// URI it serves (with a required header), and AssumeRoleWithOIDC with tokens the host mints
// (the token function fetches one from the host server each time it is called).
import { createStsClient, fromCredentialsUri, fromOidc } from 'alicred';
import { describe, expect, it } from 'vitest';
import { context } from './context.js';

describe('fromCredentialsUri against the emulator', () => {
  it('reads the credentials (with the required header), caches them, and they sign STS calls', async () => {
    const ctx = context();
    const provider = fromCredentialsUri({ uri: ctx.credentialsUri, headers: { [ctx.credentialsUriHeader.name]: ctx.credentialsUriHeader.value } });
    try {
      const c = await provider();
      expect(c.accessKeyId).toMatch(/^STS\./);
      expect(c.securityToken.length).toBeGreaterThan(10);
      expect(c.source).toBe('credentials-uri');
      expect(c.expiration.getTime()).toBeGreaterThan(Date.now() + 30 * 60_000);
      expect(await provider()).toBe(c);
      expect(provider.peek()).toBe(c);
      // Real credentials: the emulator accepts them for a signed call.
      const who = await createStsClient({ endpoint: ctx.stsEndpoint }).getCallerIdentity(c);
      expect(who.identityType).toBe('AssumedRoleUser');
    } finally {
      provider.close();
    }
  });

  it('without the required header: an error, and no credentials', async () => {
    const ctx = context();
    const provider = fromCredentialsUri({ uri: ctx.credentialsUri, refresh: { retry: false } });
    try {
      const error = await provider().then(() => undefined, (e) => e);
      expect(error instanceof Error).toBe(true);
      expect(String(error.message)).toMatch(/401|Unauthorized/);
      expect(String(error.message)).not.toContain(ctx.credentialsUriHeader.value);
    } finally {
      provider.close();
    }
  });

  it('an http URI to a non-loopback host is refused, as a ConfigError, before any request', async () => {
    let error;
    try {
      await fromCredentialsUri({ uri: 'http://credentials.example.com/creds', fetch: () => Promise.reject(new Error('a request was made')) })();
    } catch (e) {
      error = e;
    }
    expect(error?.name).toBe('ConfigError');
    expect(String(error?.message)).toMatch(/loopback/);
  });
});

describe('fromOidc against the emulator', () => {
  it('AssumeRoleWithOIDC with a token function: credentials that work; the function is asked again on a forced refresh', async () => {
    const ctx = context();
    let tokenCalls = 0;
    const token = async () => {
      tokenCalls++;
      const res = await fetch(`${ctx.oidcTokenUrl}?subject=system:serviceaccount:conformance:${ctx.runtime}`);
      if (!res.ok) throw new Error(`the host did not mint a token: HTTP ${res.status}`);
      return res.text();
    };
    const provider = fromOidc({
      roleArn: ctx.oidcRoleArn,
      oidcProviderArn: ctx.oidcProviderArn,
      token,
      roleSessionName: `oidc-${ctx.runtime}`,
      durationSeconds: 900,
      sts: { endpoint: ctx.stsEndpoint },
      cache: false,
    });
    try {
      const c = await provider();
      expect(c.accessKeyId).toMatch(/^STS\./);
      expect(c.source).toBe('sts:AssumeRoleWithOIDC');
      expect(tokenCalls).toBe(1);
      expect(await provider()).toBe(c);
      expect(tokenCalls).toBe(1);
      const who = await createStsClient({ endpoint: ctx.stsEndpoint }).getCallerIdentity(c);
      expect(who.arn).toContain(`oidc-${ctx.runtime}`);

      const again = await provider({ forceRefresh: true });
      expect(tokenCalls).toBe(2);
      expect(again.accessKeyId).not.toBe(c.accessKeyId);
    } finally {
      provider.close();
    }
  });

  it('a token the provider does not trust: a typed, non-retryable error without the token in it', async () => {
    const ctx = context();
    const token = async () => (await fetch(`${ctx.oidcTokenUrl}?subject=x`)).text();
    const jwt = await token();
    const provider = fromOidc({
      roleArn: ctx.untrustedRoleArn,
      oidcProviderArn: ctx.oidcProviderArn,
      token: jwt,
      sts: { endpoint: ctx.stsEndpoint },
      cache: false,
      refresh: { retry: false },
    });
    try {
      const error = await provider().then(() => undefined, (e) => e);
      expect(error instanceof Error).toBe(true);
      expect(error.retryable).toBe(false);
      expect(`${error.message} ${JSON.stringify(error)}`).not.toContain(jwt);
    } finally {
      provider.close();
    }
  });
});
