/**
 * The emulator's `cors` option: preflights answered on every endpoint, the allowed origin
 * echoed on every answer (errors and faulted answers included), nothing for other origins,
 * and no CORS header at all without the option. Real HTTP on 127.0.0.1 only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions } from '../src/testing/index.js';

const PAGE = 'http://localhost:5173';
const OTHER = 'https://evil.example';

let emu: Emulator; // cors for PAGE
let plain: Emulator; // no cors option

beforeAll(async () => {
  const options: EmulatorOptions = {
    users: [{ name: 'alice', accessKeyId: 'LTAI5tCorsAlice00000001', accessKeySecret: 'alice-cors-secret' }],
    roles: [{ name: 'web', trustedUsers: ['alice'] }],
    credentialsUri: { roleName: 'web' },
    ecs: { roleName: 'web' },
    cloudSso: { assignments: [{ accountId: '1234567890123456', accessConfigurationId: 'ac-web', role: 'web' }] },
  };
  emu = await startEmulator({ ...options, cors: { allowOrigins: [PAGE] } });
  plain = await startEmulator(options);
  for (const e of [emu, plain]) if (!e.url.startsWith('http://127.0.0.1:')) throw new Error(`refusing to contact ${e.url}`);
});
afterAll(async () => {
  await emu?.close();
  await plain?.close();
});

const corsHeaders = (r: Response) => {
  const names: string[] = [];
  r.headers.forEach((_value, name) => names.push(name));
  return names.filter((k) => k.startsWith('access-control-'));
};

function preflight(url: string, origin: string, method = 'GET', headers = 'authorization, x-acs-date') {
  return fetch(url, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': method, 'Access-Control-Request-Headers': headers } });
}

describe('emulator cors option', () => {
  it('answers preflights on every endpoint from an allowed origin: 204, methods, echoed headers, max age; not logged', async () => {
    const before = emu.callCount();
    const paths = ['/', '/?Action=AssumeRole&Version=2015-04-01', '/credentials-uri', '/latest/meta-data/ram/security-credentials/', '/latest/api/token', '/bucket/key.txt', '/ListTable', '/cloud-credentials', '/v1/token'];
    for (const path of paths) {
      const r = await preflight(`${emu.url}${path}`, PAGE, path === '/latest/api/token' ? 'PUT' : 'POST');
      expect(r.status, path).toBe(204);
      expect(r.headers.get('access-control-allow-origin'), path).toBe(PAGE);
      expect(r.headers.get('access-control-allow-methods'), path).toBe('GET, POST, PUT, DELETE, HEAD');
      expect(r.headers.get('access-control-allow-headers'), path).toBe('authorization, x-acs-date');
      expect(r.headers.get('access-control-max-age'), path).toBe('600');
      expect(r.headers.get('access-control-expose-headers'), path).toBe('ETag, x-oss-request-id, x-acs-request-id, Date');
      expect(r.headers.get('vary'), path).toMatch(/Origin/);
    }
    expect(emu.callCount()).toBe(before);
  });

  it('refuses a preflight from another origin (403, no CORS header) and one without Origin goes to the service as before', async () => {
    const r = await preflight(`${emu.url}/credentials-uri`, OTHER);
    expect(r.status).toBe(403);
    expect(corsHeaders(r)).toEqual([]);
    const bare = await fetch(`${emu.credentialsUri}`, { method: 'OPTIONS' });
    expect(bare.status).toBe(405); // the credentials URI's own answer to another method
  });

  it('adds the allowed origin to every answer: credentials URI, ECS metadata, STS errors, OSS errors', async () => {
    const headers = { Origin: PAGE };
    const vend = await fetch(emu.credentialsUri, { headers });
    expect(vend.status).toBe(200);
    expect(vend.headers.get('access-control-allow-origin')).toBe(PAGE);
    expect(vend.headers.get('access-control-expose-headers')).toMatch(/x-acs-request-id/);
    const role = await fetch(`${emu.url}/latest/meta-data/ram/security-credentials/`, { headers });
    expect(await role.text()).toBe('web');
    expect(role.headers.get('access-control-allow-origin')).toBe(PAGE);
    const sts = await fetch(`${emu.url}/?Action=GetCallerIdentity&Version=2015-04-01&Format=JSON`, { headers });
    expect(sts.status).toBeGreaterThanOrEqual(400);
    expect(sts.headers.get('access-control-allow-origin')).toBe(PAGE);
    const oss = await fetch(`${emu.url}/bucket/key.txt`, { headers: { ...headers, Authorization: 'OSS LTAI5tCorsAlice00000001:bogus', Date: new Date().toUTCString() } });
    expect(oss.status).toBe(403);
    expect(oss.headers.get('access-control-allow-origin')).toBe(PAGE);
  });

  it('keeps the CORS headers on a faulted answer', async () => {
    emu.inject({ action: 'CredentialsUri', status: 503 });
    const r = await fetch(emu.credentialsUri, { headers: { Origin: PAGE } });
    expect(r.status).toBe(503);
    expect(r.headers.get('access-control-allow-origin')).toBe(PAGE);
  });

  it('sends no CORS header to another origin, nor to a request without Origin', async () => {
    for (const init of [{ headers: { Origin: OTHER } }, {}]) {
      const r = await fetch(emu.credentialsUri, init);
      expect(r.status).toBe(200);
      expect(corsHeaders(r)).toEqual([]);
    }
  });

  it('without the option: no CORS header at all, and a preflight is not answered 204', async () => {
    const r = await fetch(plain.credentialsUri, { headers: { Origin: PAGE } });
    expect(r.status).toBe(200);
    expect(corsHeaders(r)).toEqual([]);
    const p = await preflight(plain.credentialsUri, PAGE);
    expect(p.status).not.toBe(204);
    expect(corsHeaders(p)).toEqual([]);
  });

  it("'*' allows any origin (echoed), and malformed origins are refused at start", async () => {
    const any = await startEmulator({ credentialsUri: { roleName: 'web' }, cors: { allowOrigins: ['*'] } });
    try {
      const r = await fetch(any.credentialsUri, { headers: { Origin: OTHER } });
      expect(r.headers.get('access-control-allow-origin')).toBe(OTHER);
    } finally {
      await any.close();
    }
    for (const bad of ['http://localhost:5173/', 'localhost', 'https://a.example/path']) {
      await expect(startEmulator({ cors: { allowOrigins: [bad] } })).rejects.toThrow(/cors\.allowOrigins/);
    }
    await expect(startEmulator({ cors: {} as { allowOrigins: string[] } })).rejects.toThrow(/cors\.allowOrigins must be an array/);
  });
});
