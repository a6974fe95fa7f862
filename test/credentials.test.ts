import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createCredentials, isCredentials, toPlainCredentials } from '../src/index.js';

const SECRET = 'very-secret-value-123';
const TOKEN = 'CAIS-security-token-xyz';

function sample() {
  return createCredentials({
    accessKeyId: 'STS.NUgYrLnoC',
    accessKeySecret: SECRET,
    securityToken: TOKEN,
    expiration: new Date('2026-11-27T13:00:00Z'),
    source: 'ram-role',
  });
}

describe('Credentials', () => {
  it('exposes the raw fields by plain property access, for signing', () => {
    const c = sample();
    expect(c.accessKeyId).toBe('STS.NUgYrLnoC');
    expect(c.accessKeySecret).toBe(SECRET);
    expect(c.securityToken).toBe(TOKEN);
    expect(c.expiration?.toISOString()).toBe('2026-11-27T13:00:00.000Z');
    expect(c.source).toBe('ram-role');
  });

  it('is frozen', () => {
    const c = sample();
    expect(Object.isFrozen(c)).toBe(true);
    expect(() => {
      (c as { accessKeySecret: string }).accessKeySecret = 'x';
    }).toThrow(TypeError);
  });

  it('redacts the secret and token in util.inspect, console formatting, JSON.stringify and String()', () => {
    const c = sample();
    const printed = [
      inspect(c),
      inspect({ nested: { c } }, { depth: 5 }),
      inspect(c, { showHidden: true }),
      JSON.stringify(c),
      JSON.stringify({ list: [c] }),
      String(c),
      `${c}`,
    ];
    for (const text of printed) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(TOKEN);
    }
    expect(inspect(c)).toContain('[REDACTED]');
    expect(inspect(c)).toMatch(/^Credentials \{/);
    expect(inspect(c)).toContain('STS.NUgYrLnoC');
    expect(JSON.parse(JSON.stringify(c))).toEqual({
      accessKeyId: 'STS.NUgYrLnoC',
      accessKeySecret: '[REDACTED]',
      securityToken: '[REDACTED]',
      expiration: '2026-11-27T13:00:00.000Z',
      source: 'ram-role',
    });
  });

  it('keeps the secret out of spreads, Object.entries and structured logging of own keys', () => {
    const c = sample();
    expect(Object.keys(c)).toEqual(['accessKeyId', 'source', 'expiration']);
    expect(JSON.stringify({ ...c })).not.toContain(SECRET);
    expect(JSON.stringify(Object.entries(c))).not.toContain(TOKEN);
  });

  it('copies the expiration so the caller cannot move it', () => {
    const expiration = new Date('2026-11-27T13:00:00Z');
    const c = createCredentials({ accessKeyId: 'a', accessKeySecret: 'b', expiration, source: 's' });
    expiration.setFullYear(2030);
    expect(c.expiration?.getUTCFullYear()).toBe(2026);
  });

  it('omits absent optional fields', () => {
    const c = createCredentials({ accessKeyId: 'LTAI', accessKeySecret: SECRET, source: 'static' });
    expect('securityToken' in c).toBe(false);
    expect('expiration' in c).toBe(false);
    expect(JSON.parse(JSON.stringify(c))).toEqual({ accessKeyId: 'LTAI', accessKeySecret: '[REDACTED]', source: 'static' });
  });

  it('toPlainCredentials gives a plain mutable copy for clients that take separate options', () => {
    const plain = toPlainCredentials(sample());
    expect(plain).toEqual({
      accessKeyId: 'STS.NUgYrLnoC',
      accessKeySecret: SECRET,
      securityToken: TOKEN,
      expiration: new Date('2026-11-27T13:00:00Z'),
    });
    expect(Object.isFrozen(plain)).toBe(false);
  });

  it('isCredentials recognises values made by createCredentials only', () => {
    expect(isCredentials(sample())).toBe(true);
    expect(isCredentials({ accessKeyId: 'a', accessKeySecret: 'b', source: 's' })).toBe(false);
    expect(isCredentials(null)).toBe(false);
  });
});
