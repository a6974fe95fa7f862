/**
 * Writing refreshed OAuth tokens back into the aliyun CLI's config.json (src/node/cli-write-back.ts):
 * the byte-preserving profile edit (on documents as the CLI writes them, other indentations,
 * CRLF, a BOM; fast-check properties), the lock file (mutual exclusion across real child
 * processes running an esbuild bundle of the module, stale takeover, timeout, abort, a lock
 * that is not ours) and the atomic replace (mode 0600, symlinks, no temp file left, read-only
 * folder).
 */
import fc from 'fast-check';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { chown, lstat, mkdir, readdir, readFile, readlink, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigLockTimeoutError, editProfileFields, replaceFileAtomically, withConfigLock } from '../src/node/cli-write-back.js';

const SECRET = 'zQ8s3cr3tM4rk3rXy7Wv2Lp9Nb5Tk1';
const SEED = 0x5eed_a11c;

/** config.json exactly as the CLI writes it: json.MarshalIndent(config, "", "\t"), no final newline. */
const CLI_DOC = `{
\t"current": "oauth",
\t"profiles": [
\t\t{
\t\t\t"name": "default",
\t\t\t"mode": "AK",
\t\t\t"access_key_id": "LTAI5tAbCdEfGhIjKlMnOpQr",
\t\t\t"access_key_secret": "${SECRET}",
\t\t\t"region_id": "cn-hangzhou",
\t\t\t"output_format": "json",
\t\t\t"language": "en",
\t\t\t"process_command": "a \\u0026\\u0026 b \\u003e c"
\t\t},
\t\t{
\t\t\t"name": "oauth",
\t\t\t"mode": "OAuth",
\t\t\t"access_key_id": "STS.NUgYrLnoC37mZZCNnAbez2ek",
\t\t\t"access_key_secret": "Bfj3uKxBqE4a9s8d7f6g5h4j3k2l1zx",
\t\t\t"sts_token": "CAIS+gF1q6Ft5B2yfSjIr5bkKM/nm7Vp0o2sc1c=",
\t\t\t"sts_expiration": 1767225600,
\t\t\t"region_id": "cn-shanghai",
\t\t\t"output_format": "json",
\t\t\t"language": "zh",
\t\t\t"oauth_access_token": "eyJhbGciOiJSUzI1NiJ9.old.c2ln",
\t\t\t"oauth_refresh_token": "rt-old-0123456789",
\t\t\t"oauth_access_token_expire": 1767222000,
\t\t\t"oauth_site_type": "CN"
\t\t}
\t],
\t"meta_path": ""
}`;

/** The seven fields the libraries write back after an exchange. */
const REFRESHED = {
  access_key_id: 'STS.NewKeyId0123456789',
  access_key_secret: 'NewSecret/with+base64=chars',
  sts_token: 'CAIS+new/token==',
  sts_expiration: 1767229200,
  oauth_access_token: 'eyJhbGciOiJSUzI1NiJ9.new.c2ln',
  oauth_refresh_token: 'rt-new-9876543210',
  oauth_access_token_expire: 1767225600,
} as const;

/** `text` with the value of `"key": old` on its line replaced: an oracle built by hand. */
function withValue(text: string, key: string, old: string, next: string): string {
  const from = `"${key}": ${old}`;
  expect(text.split(from).length, `one ${from}`).toBe(2);
  return text.replace(from, `"${key}": ${next}`);
}

const parse = (text: string): unknown => JSON.parse(text.replace(/^\ufeff/, ''));

/** The error `fn` throws. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return error as Error;
  }
  throw new Error('expected an error, but nothing was thrown');
}

describe('editProfileFields on the CLI document', () => {
  it('replaces the seven refreshed values in place and leaves every other byte', () => {
    const out = editProfileFields(CLI_DOC, 'oauth', REFRESHED);
    let expected = CLI_DOC;
    expected = withValue(expected, 'access_key_id', '"STS.NUgYrLnoC37mZZCNnAbez2ek"', '"STS.NewKeyId0123456789"');
    expected = withValue(expected, 'access_key_secret', '"Bfj3uKxBqE4a9s8d7f6g5h4j3k2l1zx"', '"NewSecret/with+base64=chars"');
    expected = withValue(expected, 'sts_token', '"CAIS+gF1q6Ft5B2yfSjIr5bkKM/nm7Vp0o2sc1c="', '"CAIS+new/token=="');
    expected = withValue(expected, 'sts_expiration', '1767225600', '1767229200');
    expected = withValue(expected, 'oauth_access_token', '"eyJhbGciOiJSUzI1NiJ9.old.c2ln"', '"eyJhbGciOiJSUzI1NiJ9.new.c2ln"');
    expected = withValue(expected, 'oauth_refresh_token', '"rt-old-0123456789"', '"rt-new-9876543210"');
    expected = withValue(expected, 'oauth_access_token_expire', '1767222000', '1767225600');
    expect(out).toBe(expected);
    // The other profile (with the CLI's \u0026 escapes) and meta_path: identical bytes.
    expect(out.slice(0, out.indexOf('"name": "oauth"'))).toBe(CLI_DOC.slice(0, CLI_DOC.indexOf('"name": "oauth"')));
    expect(out.endsWith('\t\t\t"oauth_site_type": "CN"\n\t\t}\n\t],\n\t"meta_path": ""\n}')).toBe(true);
    // Only the seven lines differ.
    const before = CLI_DOC.split('\n');
    const changed = out.split('\n').filter((line, i) => line !== before[i]);
    expect(changed.map((line) => /"(\w+)"/.exec(line)?.[1]).sort()).toEqual(Object.keys(REFRESHED).sort());
  });

  it('inserts missing keys after the last member, tab-indented like the others', () => {
    const text = CLI_DOC.replace('\t\t\t"sts_token": "CAIS+gF1q6Ft5B2yfSjIr5bkKM/nm7Vp0o2sc1c=",\n', '').replace('\t\t\t"sts_expiration": 1767225600,\n', '');
    const out = editProfileFields(text, 'oauth', { sts_token: 'CAIS+new', sts_expiration: 1767229200, oauth_site_type: 'INTL' });
    expect(out).toBe(
      text.replace('\t\t\t"oauth_site_type": "CN"\n', '\t\t\t"oauth_site_type": "INTL",\n\t\t\t"sts_token": "CAIS+new",\n\t\t\t"sts_expiration": 1767229200\n'),
    );
  });

  it.each([
    ['4 spaces (credentials-nodejs, PY)', (o: unknown) => JSON.stringify(o, null, 4)],
    ['2 spaces', (o: unknown) => JSON.stringify(o, null, 2)],
    ['tabs, CRLF', (o: unknown) => JSON.stringify(o, null, '\t').replaceAll('\n', '\r\n')],
    ['4 spaces, CRLF, BOM, final CRLF', (o: unknown) => `\ufeff${JSON.stringify(o, null, 4).replaceAll('\n', '\r\n')}\r\n`],
    ['compact, final newline', (o: unknown) => `${JSON.stringify(o)}\n`],
  ])('keeps the style of a document indented with %s', (_, format) => {
    const doc = parse(CLI_DOC) as { profiles: Record<string, unknown>[] };
    const updates = { ...REFRESHED, oauth_refresh_token_expire: 1769817600, site: 'china' };
    const expected = structuredClone(doc);
    Object.assign(expected.profiles[1]!, updates);
    expect(editProfileFields(format(doc), 'oauth', updates)).toBe(format(expected));
  });

  it('inserts into a profile that has only its name, in its style', () => {
    expect(editProfileFields('{"profiles":[{"name":"a"}]}', 'a', { k: 'v', n: 1 })).toBe('{"profiles":[{"name":"a","k":"v","n":1}]}');
    expect(editProfileFields('{ "profiles": [ { "name" : "a" } ] }', 'a', { k: 'v' })).toBe('{ "profiles": [ { "name" : "a", "k" : "v" } ] }');
    const multiline = '{\r\n\t"profiles": [\r\n\t\t{\r\n\t\t\t"name": "a"\r\n\t\t}\r\n\t]\r\n}\r\n';
    expect(editProfileFields(multiline, 'a', { k: 'v' })).toBe(multiline.replace('"name": "a"', '"name": "a",\r\n\t\t\t"k": "v"'));
  });

  it('encodes strings with escapes and unicode, and reads escaped names and keys', () => {
    const text = '{"profiles": [{"\\u006eame": "pr\\u006fd", "oauth_access_token": "x\\/y", "language": "\\u4e2d\\u6587"}], "meta_path": "C:\\\\x"}';
    const value = 'q"b\\s/\n\t\u0001é中😀\u2028\ud800';
    const out = editProfileFields(text, 'prod', { oauth_access_token: value });
    expect(out).toBe(text.replace('"x\\/y"', JSON.stringify(value)));
    expect((parse(out) as { profiles: Record<string, string>[] }).profiles[0]!.oauth_access_token).toBe(value);
    // An escaped key is matched by its decoded name (and the post-check agrees).
    const escapedKey = '{"profiles":[{"name":"a","oauth_\\u0061ccess_token":"old"}]}';
    expect(editProfileFields(escapedKey, 'a', { oauth_access_token: 'new' })).toBe(escapedKey.replace('"old"', '"new"'));
  });

  it('writes numbers as JSON numbers, over strings too, and keeps other number spellings', () => {
    const text = '{"profiles":[{"name":"a","sts_expiration":"soon","retry_count":1.0e1,"expired_seconds":-0}]}';
    const out = editProfileFields(text, 'a', { sts_expiration: 1767225600, oauth_access_token_expire: 0.5, expired_seconds: 'x' });
    expect(out).toBe('{"profiles":[{"name":"a","sts_expiration":1767225600,"retry_count":1.0e1,"expired_seconds":"x","oauth_access_token_expire":0.5}]}');
  });

  it('updates the last of duplicated keys (the one JSON.parse and the CLI keep)', () => {
    const text = '{"profiles":[{"name":"a","oauth_access_token":"first","oauth_access_token":"second"}]}';
    expect(editProfileFields(text, 'a', { oauth_access_token: 'new' })).toBe(text.replace('"second"', '"new"'));
    // So does a duplicated "profiles" or "name": the last one counts.
    const twice = '{"profiles":[{"name":"a","k":1}],"profiles":[{"name":"b","name":"a","k":2}]}';
    expect(editProfileFields(twice, 'a', { k: 3 })).toBe(twice.replace('"k":2', '"k":3'));
  });

  it('skips entries that are not objects or have no string name', () => {
    const text = '{"profiles":[1,null,"a",[],{"name":5},{"mode":"AK"},{"name":"a","k":0}]}';
    expect(editProfileFields(text, 'a', { k: 1 })).toBe(text.replace('"k":0', '"k":1'));
  });

  it('changes nothing with no updates', () => {
    expect(editProfileFields(`\ufeff${CLI_DOC}\n`, 'oauth', {})).toBe(`\ufeff${CLI_DOC}\n`);
  });

  it('refuses what it cannot do safely, naming the profile or key and never a value', () => {
    const cases: [string, string, Record<string, string | number>, RegExp][] = [
      [`{"profiles":[{"name":"a","access_key_secret":"${SECRET}"`, 'a', {}, /not valid JSON \(line 1, column \d+/],
      [`{"profiles":[{"name":"a","access_key_secret":"${SECRET}\u0001"}]}`, 'a', {}, /not valid JSON \(line 1, column \d+: control character/],
      [`[{"name":"a","k":"${SECRET}"}]`, 'a', {}, /the top level is not a JSON object/],
      [`{"profiles":{"name":"a","k":"${SECRET}"}}`, 'a', {}, /no "profiles" array/],
      [`{"current":"a","k":"${SECRET}"}`, 'a', {}, /no "profiles" array/],
      [CLI_DOC, 'missing', {}, /"missing".*no profile of that name/],
      [CLI_DOC.replace('"name": "default"', '"name": "oauth"'), 'oauth', {}, /appears 2 times in "profiles" \(entries 0, 1\)/],
      [CLI_DOC, 'oauth', { name: 'renamed' }, /"name" is not a field to update/],
      [CLI_DOC, 'oauth', { sts_expiration: Number.NaN }, /"sts_expiration" is not a string or a finite number/],
      [CLI_DOC, 'oauth', { sts_expiration: Infinity }, /"sts_expiration" is not a string or a finite number/],
    ];
    for (const [text, profile, updates, message] of cases) {
      const error = thrown(() => editProfileFields(text, profile, updates));
      expect(error.message).toMatch(message);
      expect(error.message).toMatch(/^cannot update profile "/);
      expect(error.message).not.toContain(SECRET.slice(0, 12));
      expect(error.message).not.toContain('Bfj3uKxBqE4a');
      expect(error.cause).toBeUndefined();
    }
  });
});

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

const CLI_FIELDS = ['mode', 'access_key_id', 'access_key_secret', 'sts_token', 'sts_expiration', 'region_id', 'output_format', 'language'];
const OAUTH_FIELDS = ['oauth_access_token', 'oauth_refresh_token', 'oauth_access_token_expire', 'oauth_site_type'];
const TRICKY = ['', '"', '\\', '/', '\n', '\r\n', '\t', '\u0000', '\u001f', '\u007f', 'é', '中文', '😀', '\u2028', '\u2029', '\ud800', '\udfff', '\ufeff'];
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 16 }),
  fc.constantFrom(...TRICKY),
  fc.stringMatching(/^[A-Za-z0-9+/]{8,40}={0,2}$/),
  fc.array(fc.constantFrom(...TRICKY), { maxLength: 6 }).map((parts) => parts.join('x')),
);
const number = fc.oneof(fc.integer(), fc.integer({ min: 1_700_000_000, max: 2_000_000_000 }), fc.double({ noNaN: true, noDefaultInfinity: true }));
const scalar = fc.oneof(text, number);
/** Keys: the CLI's, or random ones that are not array-index-like (those reorder in JS objects). */
const key = fc.oneof(
  fc.constantFrom(...CLI_FIELDS, ...OAUTH_FIELDS),
  fc.stringMatching(/^[a-z_][a-z0-9_]{0,12}$/).filter((k) => k !== '__proto__' && k !== 'name'),
);
const profile = fc.dictionary(key, fc.oneof({ weight: 4, arbitrary: scalar }, { weight: 1, arbitrary: fc.oneof(fc.boolean(), fc.constant(null), fc.array(scalar, { maxLength: 3 })) }), {
  maxKeys: 14,
});
const documentArb = fc
  .record({
    names: fc.uniqueArray(text, { minLength: 1, maxLength: 5 }),
    bodies: fc.array(profile, { minLength: 5, maxLength: 5 }),
    extra: fc.dictionary(fc.constantFrom('meta_path', 'current', 'x_unknown', 'z'), scalar, { maxKeys: 3 }),
    target: fc.nat(),
    updates: fc.dictionary(key, fc.oneof(text, number), { maxKeys: 8 }),
  })
  .map(({ names, bodies, extra, target, updates }) => ({
    doc: { ...extra, profiles: names.map((name, i) => ({ name, ...bodies[i] })) } as { profiles: Record<string, unknown>[] },
    name: names[target % names.length]!,
    index: target % names.length,
    updates,
  }));

/** The document with the updates applied the way JSON.parse would see the edit. */
function applied(doc: { profiles: Record<string, unknown>[] }, index: number, updates: Record<string, unknown>): unknown {
  const copy = structuredClone(doc);
  Object.assign(copy.profiles[index]!, updates);
  return copy;
}

const SENTINEL = '\u0000target profile\u0000';

const styles: Record<string, (o: unknown) => string> = {
  cli: (o) => JSON.stringify(o, null, '\t'),
  four: (o) => `${JSON.stringify(o, null, 4)}\n`,
  two: (o) => JSON.stringify(o, null, 2),
  compact: (o) => JSON.stringify(o),
  crlfBom: (o) => `\ufeff${JSON.stringify(o, null, '\t').replaceAll('\n', '\r\n')}\r\n`,
};

/** FNV-1a: a stable choice per place in the document. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * A JSON writer whose whitespace and string escapes are chosen per place (the JSON path and
 * slot, hashed), so two renderings of documents that differ only in some values make the same
 * choices everywhere else. Values at `fresh` paths (the updated ones) are written by
 * JSON.stringify, as the edit writes them.
 */
function looseRender(value: unknown, gaps: string[], escapes: number[], fresh: (path: string) => boolean): string {
  const ws = (where: string): string => gaps[hash(where) % gaps.length]!;
  const quote = (s: string, where: string): string => {
    const style = escapes[hash(where) % escapes.length]!;
    if (style === 1) return `"${Array.from(s, (c) => (c.length === 1 ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c)).join('')}"`;
    if (style === 2) return JSON.stringify(s).replaceAll('/', '\\/');
    return JSON.stringify(s);
  };
  const render = (v: unknown, path: string): string => {
    if (fresh(path)) return JSON.stringify(v);
    if (Array.isArray(v)) return `[${ws(`${path}[`)}${v.map((item, i) => `${i ? `,${ws(`${path}/${i},`)}` : ''}${render(item, `${path}/${i}`)}${ws(`${path}/${i}]`)}`).join('')}]`;
    if (typeof v === 'object' && v !== null) {
      const members = Object.entries(v).map(([k, item], i) => {
        const at = `${path}/${k}`;
        return `${i ? `,${ws(`${at},`)}` : ''}${quote(k, `${at}#key`)}${ws(`${at}<`)}:${ws(`${at}>`)}${render(item, at)}${ws(`${at}}`)}`;
      });
      return `{${ws(`${path}{`)}${members.join('')}}`;
    }
    return typeof v === 'string' ? quote(v, path) : JSON.stringify(v);
  };
  return `${ws('^')}${render(value, '')}${ws('$')}`;
}

/** What JSON.parse makes of an object (-0 becomes 0). */
const roundTrip = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('editProfileFields properties', () => {
  it('any profiles, any updates, any indentation: exactly the expected object, every other byte kept', () => {
    fc.assert(
      fc.property(documentArb, fc.constantFrom(...Object.keys(styles)), ({ doc, name, index, updates }, style) => {
        const format = styles[style]!;
        const out = editProfileFields(format(doc), name, updates);
        const expected = applied(doc, index, updates);
        expect(parse(out)).toEqual(roundTrip(expected));
        // The whole text is what the same writer makes of the expected object: so the untouched
        // profiles, the unknown fields and the layout are identical bytes.
        expect(out).toBe(format(expected));
        // Explicitly: the text before and after the target profile (the other profiles, the
        // unknown fields) is the original's. A sentinel in the target's place finds it.
        const marked = structuredClone(doc) as { profiles: unknown[] };
        marked.profiles[index] = SENTINEL;
        const [before, after] = format(marked).split(JSON.stringify(SENTINEL)) as [string, string];
        expect(out.startsWith(before) && out.endsWith(after)).toBe(true);
        expect(format(doc).startsWith(before) && format(doc).endsWith(after)).toBe(true);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('odd whitespace and escapes everywhere: replacing values changes those bytes only', () => {
    const gaps = fc.array(fc.constantFrom('', '', ' ', '\t', '\n', '\r\n', '\n\t\t', '    ', ' \r\n  '), { minLength: 1, maxLength: 24 });
    const escapes = fc.array(fc.constantFrom(0, 1, 2), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(documentArb, gaps, escapes, fc.boolean(), ({ doc, name, index, updates }, g, e, bom) => {
        const target = doc.profiles[index]!;
        const existing = Object.fromEntries(Object.entries(updates).filter(([k]) => Object.hasOwn(target, k)));
        const source = (bom ? '\ufeff' : '') + looseRender(doc, g, e, () => false);
        const out = editProfileFields(source, name, existing);
        const expected = applied(doc, index, existing);
        expect(parse(out)).toEqual(roundTrip(expected));
        const fresh = (path: string) => Object.keys(existing).some((k) => path === `/profiles/${index}/${k}`);
        expect(out).toBe((bom ? '\ufeff' : '') + looseRender(expected, g, e, fresh));
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });
});

// ---------------------------------------------------------------------------
// Files: the lock and the atomic replace
// ---------------------------------------------------------------------------

let base = '';
let bundle = '';
let child = '';
let caseNo = 0;
/** A fresh folder per test. */
async function folder(): Promise<string> {
  const dir = join(base, `case-${++caseNo}`);
  await mkdir(dir, { recursive: true });
  return dir;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const IS_ROOT = process.getuid?.() === 0;

/** The child: `cycles` locked read-increment-write cycles on the oauth profile's counter field. */
const CHILD_SCRIPT = `
import { open, readFile, rm } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
const [bundle, config, cycles, startAt, marker] = process.argv.slice(2);
const { withConfigLock, replaceFileAtomically, editProfileFields } = await import(pathToFileURL(bundle).href);
await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));
for (let i = 0; i < Number(cycles); i++) {
  await withConfigLock(config, async () => {
    await (await open(marker, 'wx')).close(); // EEXIST: two holders at once
    const text = await readFile(config, 'utf8');
    const n = JSON.parse(text).profiles.find((p) => p.name === 'oauth').oauth_access_token_expire;
    await new Promise((r) => setTimeout(r, Math.random() * 3));
    const next = editProfileFields(text, 'oauth', { oauth_access_token_expire: n + 1, oauth_refresh_token: 'rt-' + process.pid + '-' + i });
    await replaceFileAtomically(config, next);
    await rm(marker);
  }, { timeoutMs: 60000 });
}
`;

/** Runs a node script; resolves with its exit code and output. */
function run(args: string[], options: { uid?: number; gid?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, args, { timeout: 60_000, env: { PATH: process.env.PATH ?? '' }, ...options }, (error, stdout, stderr) =>
      done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'alicred-write-back-'));
  chmodSync(base, 0o755); // the read-only test's child may run as another user
  bundle = join(base, 'cli-write-back.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('../src/node/cli-write-back.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: bundle,
    logLevel: 'silent',
  });
  child = join(base, 'child.mjs');
  writeFileSync(child, CHILD_SCRIPT);
  chmodSync(bundle, 0o644);
  chmodSync(child, 0o644);
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('withConfigLock across processes', () => {
  async function race(dir: string, children: number, cycles: number): Promise<void> {
    const config = join(dir, 'config.json');
    const marker = join(base, `inside-${caseNo}`);
    const startAt = String(Date.now() + 800);
    const results = await Promise.all(Array.from({ length: children }, () => run([child, bundle, config, String(cycles), startAt, marker])));
    for (const result of results) expect(result, result.stderr).toMatchObject({ code: 0 });
    const profiles = (JSON.parse(await readFile(config, 'utf8')) as { profiles: Record<string, unknown>[] }).profiles;
    expect(profiles[1]!.oauth_access_token_expire).toBe(1767222000 + children * cycles);
    // The rest of the file is the CLI's, byte for byte, apart from the two fields.
    const final = await readFile(config, 'utf8');
    expect(final).toBe(
      editProfileFields(CLI_DOC, 'oauth', { oauth_access_token_expire: 1767222000 + children * cycles, oauth_refresh_token: profiles[1]!.oauth_refresh_token as string }),
    );
    // No lock, takeover or temporary file left behind; the mode is the CLI's.
    expect(await readdir(dir)).toEqual(['config.json']);
    expect((await stat(config)).mode & 0o777).toBe(0o600);
  }

  it('five children, 20 locked read-increment-write cycles each: the counter is exact', async () => {
    const dir = await folder();
    await writeFile(join(dir, 'config.json'), CLI_DOC, { mode: 0o600 });
    await race(dir, 5, 20);
  }, 90_000);

  it('children racing to take over an abandoned lock: one at a time, the counter is exact', async () => {
    const dir = await folder();
    await writeFile(join(dir, 'config.json'), CLI_DOC, { mode: 0o600 });
    const lock = join(dir, 'config.json.lock');
    await writeFile(lock, '{"pid":999999,"hostname":"gone","acquiredAt":"2020-01-01T00:00:00Z","id":"dead"}\n');
    const old = new Date(Date.now() - 3600_000);
    await utimes(lock, old, old);
    await race(dir, 5, 10);
  }, 90_000);
});

describe('withConfigLock', () => {
  it('creates <real file>.lock with O_EXCL, mode 0600, the owner inside, and removes it after', async () => {
    const dir = await folder();
    const config = join(dir, 'config.json');
    const seen = await withConfigLock(config, async () => {
      const lock = join(dir, 'config.json.lock');
      return { mode: (await stat(lock)).mode & 0o777, owner: JSON.parse(await readFile(lock, 'utf8')) as Record<string, unknown> };
    });
    expect(seen.mode).toBe(0o600);
    expect(seen.owner).toMatchObject({ pid: process.pid, hostname: expect.any(String), acquiredAt: expect.any(String), id: expect.any(String) });
    expect(await readdir(dir)).toEqual([]);
  });

  it('puts the lock next to the real file of a symlinked config', async () => {
    const dir = await folder();
    await mkdir(join(dir, 'dotfiles'));
    await mkdir(join(dir, '.aliyun'));
    await writeFile(join(dir, 'dotfiles', 'aliyun.json'), CLI_DOC);
    await symlink('../dotfiles/aliyun.json', join(dir, '.aliyun', 'config.json'));
    const where = await withConfigLock(join(dir, '.aliyun', 'config.json'), async () => [await readdir(join(dir, 'dotfiles')), await readdir(join(dir, '.aliyun'))]);
    expect(where).toEqual([['aliyun.json', 'aliyun.json.lock'], ['config.json']]);
  });

  it('serialises callers in one process, and returns or rethrows what fn does', async () => {
    const config = join(await folder(), 'config.json');
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        withConfigLock(config, async () => {
          most = Math.max(most, ++inside);
          await sleep(5);
          order.push(i);
          inside--;
          if (i === 3) throw new Error('fn failed');
          return i;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(order.sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(results[3]).toMatchObject({ status: 'rejected', reason: { message: 'fn failed' } });
    expect(results[5]).toMatchObject({ status: 'fulfilled', value: 5 });
  });

  it('takes over a lock whose mtime is older than staleMs; waiters racing for it do not overlap', async () => {
    const dir = await folder();
    const config = join(dir, 'config.json');
    const lock = `${config}.lock`;
    await writeFile(lock, 'someone else\n');
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        withConfigLock(
          config,
          async () => {
            most = Math.max(most, ++inside);
            await sleep(3);
            inside--;
          },
          { staleMs: 1000 },
        ),
      ),
    );
    expect(most).toBe(1);
    expect(await readdir(dir)).toEqual([]);
  });

  it('keeps a slow holder\'s lock fresh: a waiter with the same staleMs does not take it over', async () => {
    const config = join(await folder(), 'config.json');
    const events: string[] = [];
    const slow = withConfigLock(
      config,
      async () => {
        events.push('a in');
        await sleep(1000);
        events.push('a out');
      },
      { staleMs: 300 },
    );
    await sleep(50);
    await withConfigLock(config, async () => void events.push('b in'), { staleMs: 300, timeoutMs: 5000 });
    await slow;
    expect(events).toEqual(['a in', 'a out', 'b in']);
  });

  it('times out on a held lock with an error naming the lock file, its holder and what to do', async () => {
    const dir = await folder();
    const config = join(dir, 'config.json');
    const lock = `${config}.lock`;
    const foreign = '{"pid":4242,"hostname":"build-7","acquiredAt":"2026-01-01T00:00:00.000Z","id":"x"}\n';
    await writeFile(lock, foreign);
    let called = false;
    const started = Date.now();
    const error = await withConfigLock(config, async () => (called = true), { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toBeInstanceOf(ConfigLockTimeoutError);
    const message = (error as Error).message;
    expect(message).toContain(`timed out after 200 ms waiting for the lock file ${lock}`);
    expect(message).toContain('held by pid 4242 on "build-7" since 2026-01-01T00:00:00.000Z');
    expect(message).toMatch(/If no alicred or aliyun CLI process is running, it was left behind: delete it/);
    expect((error as ConfigLockTimeoutError).lockPath).toBe(lock);
    expect(called).toBe(false);
    expect(await readFile(lock, 'utf8')).toBe(foreign);
  });

  it('does not remove a lock that is no longer ours', async () => {
    const dir = await folder();
    const config = join(dir, 'config.json');
    const lock = `${config}.lock`;
    await withConfigLock(config, async () => writeFile(lock, 'taken over by another process\n'), { staleMs: 60 });
    expect(await readFile(lock, 'utf8')).toBe('taken over by another process\n');
  });

  it('aborts the wait with the signal, leaving no timer and no lock of its own', async () => {
    const dir = await folder();
    const config = join(dir, 'config.json');
    await writeFile(`${config}.lock`, 'held\n');
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const controller = new AbortController();
    const waiting = withConfigLock(config, async () => 'ran', { signal: controller.signal, timeoutMs: 60_000 });
    await sleep(80);
    const reason = new Error('shutting down');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(timers()).toBe(before);
    expect(await readFile(`${config}.lock`, 'utf8')).toBe('held\n');
    // Already aborted: no lock created at all.
    await rm(`${config}.lock`);
    await expect(withConfigLock(config, async () => 'ran', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(await readdir(dir)).toEqual([]);
  });

  it('propagates the error when the lock cannot be created, and checks its options', async () => {
    const missing = join(await folder(), 'no-such-folder', 'config.json');
    await expect(withConfigLock(missing, async () => 1)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(withConfigLock(missing, async () => 1, { staleMs: Number.NaN })).rejects.toThrow(/staleMs must be a number >= 0/);
    await expect(withConfigLock(missing, async () => 1, { timeoutMs: -1 })).rejects.toThrow(/timeoutMs must be a number >= 0/);
  });
});

describe('replaceFileAtomically', () => {
  it('writes a new file and replaces an existing one with mode 0600, leaving no temporary file', async () => {
    const dir = await folder();
    const config = join(dir, 'config.json');
    await replaceFileAtomically(config, CLI_DOC);
    expect(await readFile(config, 'utf8')).toBe(CLI_DOC);
    expect((await stat(config)).mode & 0o777).toBe(0o600);
    await writeFile(config, 'old', { mode: 0o644 });
    await replaceFileAtomically(config, `\ufeff${CLI_DOC}\r\n`);
    expect(await readFile(config, 'utf8')).toBe(`\ufeff${CLI_DOC}\r\n`);
    expect((await stat(config)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['config.json']);
  });

  it.runIf(IS_ROOT)('keeps the owner of a file it replaces as root (sudo with HOME kept)', async () => {
    const config = join(await folder(), 'config.json');
    await writeFile(config, 'old', { mode: 0o600 });
    await chown(config, 65534, 65534);
    await replaceFileAtomically(config, 'new');
    expect(await stat(config)).toMatchObject({ uid: 65534, gid: 65534 });
    expect(await readFile(config, 'utf8')).toBe('new');
  });

  it('edits the target of a symlinked config.json and keeps the link (also a chain, and a dangling link)', async () => {
    const dir = await folder();
    await mkdir(join(dir, 'dotfiles'));
    await mkdir(join(dir, '.aliyun'));
    await writeFile(join(dir, 'dotfiles', 'aliyun.json'), 'old');
    await symlink('../dotfiles/aliyun.json', join(dir, '.aliyun', 'real-link.json'));
    await symlink('real-link.json', join(dir, '.aliyun', 'config.json'));
    await replaceFileAtomically(join(dir, '.aliyun', 'config.json'), CLI_DOC);
    expect((await lstat(join(dir, '.aliyun', 'config.json'))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(dir, '.aliyun', 'config.json'))).toBe('real-link.json');
    expect(await readFile(join(dir, 'dotfiles', 'aliyun.json'), 'utf8')).toBe(CLI_DOC);
    expect((await readdir(join(dir, 'dotfiles'))).sort()).toEqual(['aliyun.json']);
    await symlink('../dotfiles/created-later.json', join(dir, '.aliyun', 'dangling.json'));
    await replaceFileAtomically(join(dir, '.aliyun', 'dangling.json'), 'x');
    expect((await lstat(join(dir, '.aliyun', 'dangling.json'))).isSymbolicLink()).toBe(true);
    expect(await readFile(join(dir, 'dotfiles', 'created-later.json'), 'utf8')).toBe('x');
  });

  it('removes its temporary file when the rename fails', async () => {
    const dir = await folder();
    await mkdir(join(dir, 'config.json'));
    await expect(replaceFileAtomically(join(dir, 'config.json'), CLI_DOC)).rejects.toMatchObject({ code: expect.stringMatching(/^(EISDIR|EEXIST|ENOTEMPTY|EPERM)$/) });
    expect(await readdir(dir)).toEqual(['config.json']);
  });

  it('rejects with the fs error in a read-only folder, leaving the file as it was', async () => {
    const dir = await folder();
    const config = join(dir, 'config.json');
    await writeFile(config, CLI_DOC, { mode: 0o644 });
    chmodSync(dir, 0o555);
    try {
      if (!IS_ROOT) {
        await expect(replaceFileAtomically(config, 'new')).rejects.toMatchObject({ code: 'EACCES' });
        await expect(withConfigLock(config, async () => 1)).rejects.toMatchObject({ code: 'EACCES' });
      } else {
        // Root writes anywhere: try as an unprivileged user instead.
        const script = join(base, `readonly-${caseNo}.mjs`);
        writeFileSync(
          script,
          `const m = await import(${JSON.stringify(`file://${bundle}`)});
const codes = [];
for (const call of [() => m.replaceFileAtomically(${JSON.stringify(config)}, 'new'), () => m.withConfigLock(${JSON.stringify(config)}, async () => 1)]) {
  await call().then(() => codes.push('resolved'), (e) => codes.push(e.code));
}
console.log(JSON.stringify(codes));`,
        );
        chmodSync(script, 0o644);
        const result = await run([script], { uid: 65534, gid: 65534 });
        expect(result, result.stderr).toMatchObject({ code: 0 });
        expect(JSON.parse(result.stdout)).toEqual(['EACCES', 'EACCES']);
      }
      expect(await readFile(config, 'utf8')).toBe(CLI_DOC);
      expect(await readdir(dir)).toEqual(['config.json']);
    } finally {
      chmodSync(dir, 0o755);
    }
  });
});
