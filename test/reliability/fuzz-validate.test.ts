/**
 * Fuzz (issue 9): the STS parameter checks of src/sts/validate.ts. Whatever a caller passes,
 * the only failure is a ConfigError (code InvalidParameter, `field` set) whose message never
 * holds a policy, an external id, a source identity, an OIDC token or a source secret; and
 * the verdict agrees with an independent, procedural reading of the documented rules.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  validateAssumeRoleParams,
  validateAssumeRoleWithOidcParams,
  validateDurationSeconds,
  validateExternalId,
  validateOidcProviderArn,
  validateOidcToken,
  validatePolicy,
  validateRoleArn,
  validateRoleSessionName,
  validateSourceCredentials,
  validateSourceIdentity,
} from '../../src/sts/validate.js';
import { anyText, assertTypedAndClean, params, record, RunMeter, SECRET, thrownBy, TOKEN } from './fuzz-kit.js';

// ---------------------------------------------------------------------------
// The rules, read procedurally (no regex), as the STS API reference states them
// ---------------------------------------------------------------------------

const isDigit = (c: string) => c >= '0' && c <= '9';
const isWord = (c: string) => isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
const allOf = (s: string, ok: (c: string) => boolean) => [...s].every((c) => c.length === 1 && ok(c));
const hasLoneSurrogate = (s: string) => {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
};

/** `acs:ram::<digits>:<role, any case>/<1-64 of letters, digits, _ . ->`. */
function arnOk(value: string, kind: 'role' | 'oidc-provider', maxName: number): boolean {
  const prefix = 'acs:ram::';
  if (!value.startsWith(prefix)) return false;
  const rest = value.slice(prefix.length);
  const colon = rest.indexOf(':');
  if (colon < 1 || !allOf(rest.slice(0, colon), isDigit)) return false;
  const tail = rest.slice(colon + 1);
  const slash = tail.indexOf('/');
  if (slash < 0) return false;
  const word = tail.slice(0, slash);
  if (kind === 'role' ? word.toLowerCase() !== 'role' : word !== 'oidc-provider') return false;
  const name = tail.slice(slash + 1);
  return name.length >= 1 && name.length <= maxName && allOf(name, (c) => isWord(c) || c === '.' || c === '-');
}

const sessionOk = (v: string) => v.length >= 2 && v.length <= 64 && allOf(v, (c) => isWord(c) || '.@-'.includes(c));
const externalIdOk = (v: string) => v.length >= 2 && v.length <= 1224 && allOf(v, (c) => isWord(c) || '+=,.@:/-'.includes(c));
const sourceIdentityOk = (v: string) =>
  !['acs:', 'aliyun:', 'alibabacloud:'].some((p) => v.toLowerCase().startsWith(p)) &&
  v.length >= 2 &&
  v.length <= 64 &&
  allOf(v, (c) => isWord(c) || '+=,.@-'.includes(c));
function policyOk(v: string): boolean {
  if (hasLoneSurrogate(v) || v.length < 1 || v.length > 2048) return false;
  try {
    const parsed: unknown = JSON.parse(v);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  } catch {
    return false;
  }
}
const tokenOk = (v: string) => !hasLoneSurrogate(v) && v.trim() !== '' && v.length >= 4 && v.length <= 20000;
const durationOk = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 900 && v <= 43200;

// ---------------------------------------------------------------------------
// Inputs: near-valid values built from parts, plus anything at all
// ---------------------------------------------------------------------------

const nameChars = fc.constantFrom(...'abcXYZ019_.-@+=,:/ ~é\u0000\n'.split(''), '\ud800', '😀');
const nameOf = (max: number) => fc.string({ unit: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...'abcdefXYZ0123456789_.-'.split('')) }, { weight: 1, arbitrary: nameChars }), maxLength: max });

const arnLike = (word: fc.Arbitrary<string>, maxName: number) =>
  fc
    .tuple(
      fc.constantFrom('acs:ram::', 'acs:ram:', 'ACS:ram::', 'acs:ram::', 'acs:ram:cn-hangzhou:'),
      fc.oneof(fc.stringMatching(/^\d{1,18}$/), fc.constantFrom('', '12a', '-1', '١٢')),
      fc.constantFrom(':', '::', '/'),
      word,
      fc.constantFrom('/', '//', ':'),
      nameOf(maxName),
    )
    .map((parts) => parts.join(''));

const roleArns = fc.oneof(
  { weight: 6, arbitrary: arnLike(fc.constantFrom('role', 'Role', 'ROLE', 'rOlE', 'roles', 'user'), 70) },
  { weight: 1, arbitrary: anyText(80) },
);
const oidcArns = fc.oneof(
  { weight: 6, arbitrary: arnLike(fc.constantFrom('oidc-provider', 'OIDC-provider', 'oidc_provider', 'saml-provider'), 135) },
  { weight: 1, arbitrary: anyText(80) },
);
const sessionNames = fc.oneof({ weight: 4, arbitrary: nameOf(70) }, { weight: 1, arbitrary: anyText(70) });
/** Secret-bearing values: a marker somewhere inside, with near-valid or hostile surroundings. */
const withMarker = (around: fc.Arbitrary<string>, marker: string) =>
  fc.tuple(around, around, fc.boolean()).map(([a, b, cut]) => (cut ? `${a}${marker}${b}`.slice(0, 1224) : `${a}${marker}${b}`));
const externalIds = fc.oneof(withMarker(nameOf(40), SECRET), withMarker(anyText(20), SECRET), fc.stringMatching(/^[\w+=,.@:/-]{1200,1230}$/));
const sourceIdentities = fc.oneof(
  withMarker(nameOf(20), SECRET),
  fc.tuple(fc.constantFrom('acs:', 'ALIYUN:', 'alibabacloud:', 'aliyun', ''), nameOf(30)).map(([p, n]) => `${p}${n}`),
  withMarker(anyText(10), SECRET),
);
const policyDoc = fc.record({
  Version: fc.constantFrom('1', 1),
  Statement: fc.array(fc.record({ Effect: fc.constantFrom('Allow', 'Deny'), Action: fc.constantFrom('sts:*', 'oss:GetObject'), Resource: fc.constant(`acs:oss:*:*:${SECRET}/*`) }), { maxLength: 3 }),
  Pad: fc.string({ maxLength: 60 }),
});
const policies = fc.oneof(
  { weight: 4, arbitrary: policyDoc.map((p) => JSON.stringify(p)) },
  { weight: 2, arbitrary: fc.tuple(policyDoc, fc.nat()).map(([p, n]) => { const t = JSON.stringify(p); return t.slice(0, n % (t.length + 1)); }) },
  { weight: 1, arbitrary: fc.constantFrom(`["${SECRET}"]`, `"${SECRET}"`, 'null', '42', ' ', '', `{"a":"${SECRET}"}${' '.repeat(2100)}`) },
  { weight: 1, arbitrary: fc.tuple(policyDoc, fc.integer({ min: 1900, max: 2200 })).map(([p, n]) => JSON.stringify({ ...p, Pad: 'x'.repeat(n) })) },
  { weight: 1, arbitrary: withMarker(anyText(30), SECRET) },
);
const oidcTokens = fc.oneof(
  withMarker(fc.stringMatching(/^[A-Za-z0-9_.-]{0,40}$/), TOKEN),
  fc.constantFrom('', '   ', 'abc', `\ud800${TOKEN}`),
  fc.integer({ min: 19990, max: 20010 }).map((n) => `${TOKEN}${'a'.repeat(Math.max(0, n - TOKEN.length))}`),
  withMarker(anyText(10), TOKEN),
);
const durations = fc.oneof(
  fc.integer({ min: 0, max: 50_000 }),
  fc.constantFrom(899, 900, 43200, 43201, -900, 900.5, NaN, Infinity, -Infinity, 0),
  fc.double(),
  fc.anything(),
);
/** Anything at all in place of a string. */
const orAnything = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 9, arbitrary: arb as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: fc.anything() });

const sourceValue = (marker: string) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant(marker) },
    { weight: 1, arbitrary: fc.constantFrom(`${marker}\n`, `\u0000${marker}`, `${marker}\ud800`, `${marker}\u0085`, '', '  ') },
    { weight: 1, arbitrary: fc.anything() },
  );
const sources = fc.oneof(
  { weight: 8, arbitrary: fc.record({ accessKeyId: orAnything(fc.constantFrom('LTAI5tFuzz0000000000001', ' ', '')), accessKeySecret: sourceValue(SECRET), securityToken: fc.option(sourceValue(TOKEN), { nil: undefined }) }, { requiredKeys: ['accessKeyId', 'accessKeySecret'] }) },
  { weight: 1, arbitrary: fc.anything() },
);

// ---------------------------------------------------------------------------
// One case: a call and the verdict the rules give (undefined: no verdict, only typing)
// ---------------------------------------------------------------------------

type Case = { name: string; call: () => void; valid: boolean | undefined; field: string | undefined };
const single = <T>(name: string, arb: fc.Arbitrary<T>, fn: (v: unknown) => void, ok: ((v: T) => boolean) | undefined, field: string) =>
  orAnything(arb).map((v): Case => ({ name, call: () => fn(v), valid: typeof v === 'string' || name === 'durationSeconds' ? ok?.(v as T) : false, field }));

/** The identifiers (their messages may show them). */
const identifierCases: fc.Arbitrary<Case> = fc.oneof(
  single('roleArn', roleArns, validateRoleArn, (v) => !hasLoneSurrogate(v) && arnOk(v, 'role', 64), 'roleArn'),
  single('oidcProviderArn', oidcArns, validateOidcProviderArn, (v) => !hasLoneSurrogate(v) && arnOk(v, 'oidc-provider', 128), 'oidcProviderArn'),
  single('roleSessionName', sessionNames, validateRoleSessionName, (v) => !hasLoneSurrogate(v) && sessionOk(v), 'roleSessionName'),
);

/** The values that may be secret (their messages must never show them). */
const secretCases: fc.Arbitrary<Case> = fc.oneof(
  single('externalId', externalIds, validateExternalId, (v) => !hasLoneSurrogate(v) && externalIdOk(v), 'externalId'),
  single('sourceIdentity', sourceIdentities, validateSourceIdentity, (v) => !hasLoneSurrogate(v) && sourceIdentityOk(v), 'sourceIdentity'),
  single('policy', policies, validatePolicy, policyOk, 'policy'),
  single('oidcToken', oidcTokens, validateOidcToken, tokenOk, 'oidcToken'),
  sources.map((v): Case => ({ name: 'source', call: () => validateSourceCredentials(v), valid: undefined, field: undefined })),
);

/** DurationSeconds and whole parameter objects. */
const paramCases: fc.Arbitrary<Case> = fc.oneof(
  durations.map((v): Case => ({ name: 'durationSeconds', call: () => validateDurationSeconds(v), valid: durationOk(v), field: 'durationSeconds' })),
  fc
    .record(
      { roleArn: orAnything(roleArns), roleSessionName: orAnything(sessionNames), durationSeconds: durations, policy: orAnything(policies), externalId: orAnything(externalIds), sourceIdentity: orAnything(sourceIdentities) },
      { requiredKeys: [] },
    )
    .map((p): Case => ({ name: 'assumeRole', call: () => validateAssumeRoleParams(p as never), valid: undefined, field: undefined })),
  fc
    .record(
      { roleArn: orAnything(roleArns), oidcProviderArn: orAnything(oidcArns), oidcToken: orAnything(oidcTokens), roleSessionName: orAnything(sessionNames), durationSeconds: durations, policy: orAnything(policies) },
      { requiredKeys: [] },
    )
    .map((p): Case => ({ name: 'assumeRoleWithOidc', call: () => validateAssumeRoleWithOidcParams(p as never), valid: undefined, field: undefined })),
);

/** Runs one family: only ConfigErrors, clean, and the rules' verdict where they give one. */
function fuzzFamily(parser: string, cases: fc.Arbitrary<Case>): void {
  const meter = new RunMeter();
  const seen = { accepted: 0, refused: 0 };
  fc.assert(
    fc.property(cases, (c) => {
      meter.sync(() => {
        const error = thrownBy(c.call);
        if (error === undefined) seen.accepted++;
        else {
          seen.refused++;
          assertTypedAndClean(error);
          if (!(error instanceof ConfigError)) throw new Error(`${c.name}: not a ConfigError: ${String(error)}`);
          if (c.field !== undefined && error.field !== c.field) throw new Error(`${c.name}: field ${String(error.field)}`);
          if (c.name !== 'source' && error.code !== 'InvalidParameter') throw new Error(`${c.name}: code ${error.code}`);
        }
        if (c.valid !== undefined && c.valid !== (error === undefined)) {
          throw new Error(`${c.name}: the rules say ${c.valid ? 'valid' : 'invalid'}, the validator ${error === undefined ? 'accepted' : `refused (${(error as Error).message})`}`);
        }
      });
    }),
    params(),
  );
  // Both verdicts must be well represented, or the generators have drifted.
  expect(Math.min(seen.accepted, seen.refused), `${parser}: accepted ${seen.accepted}, refused ${seen.refused}`).toBeGreaterThan(meter.runs / 20);
  record(parser, meter, { accepted: seen.accepted, refused: seen.refused });
}

describe('fuzz: STS parameter validation (only ConfigErrors, no secret in them, the documented rules)', () => {
  it('roleArn, oidcProviderArn, roleSessionName', () => fuzzFamily('validate: roleArn / oidcProviderArn / session name', identifierCases));
  it('policy, externalId, sourceIdentity, oidcToken, source credentials', () => fuzzFamily('validate: policy / externalId / sourceIdentity / oidcToken / source', secretCases));
  it('durationSeconds and whole AssumeRole / AssumeRoleWithOIDC parameter objects', () => fuzzFamily('validate: durationSeconds / params objects', paramCases));
});
