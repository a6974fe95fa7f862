/**
 * Fuzz (issue 9): what an External-mode helper prints. The output parser of
 * src/node/process.ts is not exported, so the real fromProcess runs with `spawn` replaced
 * in-process by a fake child that prints the fuzzed stdout and stderr (in chunks) and exits
 * as told: the whole path (collection, size cap, exit handling, stderr redaction, parsing,
 * lifetime clamp, the engine) without 10 000 real processes. Oracles as in fuzz-http.
 */
import fc from 'fast-check';
import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { fromProcess } from '../../src/node/process.js';
import { credentialModel, NOW, serialise, textMutation } from './fuzz-answers.js';
import { anyText, assertNoLeakInLogs, assertTypedAndClean, captureLogger, leakIn, params, rarely, record, RunMeter, SECRET, TOKEN, type Generated } from './fuzz-kit.js';

/** What the next spawned fake child does. */
type Plan = { stdout: Buffer[]; stderr: Buffer[]; code: number | null; signal: string | null; spawnError: boolean; hang: boolean };
const state = vi.hoisted(() => ({ plan: undefined as Plan | undefined, spawned: 0 }));

vi.mock('node:child_process', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:child_process')>();
  const { EventEmitter } = await import('node:events');
  const stream = () => Object.assign(new EventEmitter(), { destroy: () => {} });
  return {
    ...actual,
    spawn: () => {
      const plan = state.plan!;
      state.spawned++;
      // No pid: the provider's process-group kill has nothing to signal.
      const child = Object.assign(new EventEmitter(), { stdout: stream(), stderr: stream(), pid: undefined, unref: () => {}, kill: () => true });
      setImmediate(() => {
        if (plan.spawnError) {
          child.emit('error', Object.assign(new Error('spawn fuzz-helper ENOENT'), { code: 'ENOENT' }));
          return;
        }
        for (let i = 0; i < Math.max(plan.stdout.length, plan.stderr.length); i++) {
          if (plan.stderr[i]) child.stderr.emit('data', plan.stderr[i]);
          if (plan.stdout[i]) child.stdout.emit('data', plan.stdout[i]);
        }
        if (!plan.hang) child.emit('close', plan.code, plan.signal);
      });
      return child;
    },
  };
});

const HOUR = 3600_000;

/** Cuts `text` into chunks at byte offsets (a UTF-8 sequence may be split). */
function chunks(text: string, cuts: readonly number[]): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  const at = [...new Set(cuts.map((c) => Math.min(bytes.length, c)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of [...at, bytes.length]) {
    if (c > from) out.push(bytes.subarray(from, c));
    from = Math.max(from, c);
  }
  return out;
}

type OutKey = 'mode' | 'access_key_id' | 'access_key_secret' | 'sts_token' | 'expiration';
const weird = fc.oneof(fc.constantFrom(null, '', '   ', 0, 1, true, [], {}, '\u0000', '\ud800'), anyText(20));
const outMutation = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom<OutKey>('mode', 'access_key_id', 'access_key_secret', 'sts_token', 'expiration') }),
  fc.record({ op: fc.constant('set' as const), key: fc.constantFrom<OutKey>('mode', 'access_key_id', 'sts_token', 'expiration'), value: weird }),
  fc.record({ op: fc.constant('set' as const), key: fc.constant<OutKey>('expiration'), value: fc.constantFrom('2025-02-30T00:00:00Z', 'tomorrow', '2025-01-15T07:00:00Z', '1736928000', '+275760-09-13T00:00:00Z') }),
  fc.record({ op: fc.constant('set' as const), key: fc.constant<OutKey>('mode'), value: fc.constantFrom('External', 'RamRoleArn', 'CloudSSO', 'Nonsense', `mode-${SECRET}`.slice(0, 8)) }),
  fc.record({ op: fc.constant('pad' as const) }),
);

/** Helper stderr: prose, assignments and JSON quoting the secret, long enough to be cut. */
const stderrText = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: anyText(80) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('access_key_secret=', 'AccessKeySecret: ', '"sts_token": "', 'secret is ', 'Authorization: Bearer ', 'using key ', ''), fc.constantFrom(SECRET, TOKEN), fc.constantFrom('', '"', ' and more', '\n'))
      .map(([a, s, b]) => `error: ${a}${s}${b}`),
  },
  {
    weight: 1,
    // Around the 4 KiB tail the provider keeps: the cut may fall inside the secret.
    arbitrary: fc.tuple(fc.integer({ min: 4000, max: 4150 }), fc.constantFrom(SECRET, TOKEN)).map(([n, s]) => `${'x '.repeat(n / 2)}${s} failed`),
  },
);

const processCase = fc.record({
  command: fc.constantFrom<string | string[]>(['/usr/local/bin/fuzz-helper', '--secret', SECRET], `AK_SECRET=${SECRET} /usr/local/bin/fuzz-helper --token=${TOKEN}`, `"/opt/fuzz helper/bin" ${SECRET}`, 'fuzz-helper'),
  model: credentialModel(600, 13 * 3600),
  mode: fc.constantFrom<string | undefined>('StsToken', 'AK', 'ststoken', ' ak ', undefined),
  withExpiration: fc.boolean(),
  fields: fc.oneof({ weight: 3, arbitrary: fc.constant([] as Generated<typeof outMutation>[]) }, { weight: 2, arbitrary: fc.array(outMutation, { minLength: 1, maxLength: 3 }) }),
  text: fc.oneof({ weight: 3, arbitrary: fc.constant([] as Generated<typeof textMutation>[]) }, { weight: 1, arbitrary: fc.array(textMutation, { minLength: 1, maxLength: 2 }) }),
  indent: fc.constantFrom<0 | 2 | '\t'>(0, 2),
  bom: fc.boolean(),
  cuts: fc.array(fc.nat({ max: 400 }), { maxLength: 4 }),
  stderr: stderrText,
  exit: fc.oneof({ weight: 12, arbitrary: fc.constant({ code: 0 as number | null, signal: null as string | null }) }, { weight: 1, arbitrary: fc.constantFrom({ code: 1, signal: null }, { code: 127, signal: null }, { code: null, signal: 'SIGKILL' }) }),
  maxOutputBytes: rarely(fc.integer({ min: 1, max: 400 }), 10),
  // A hang costs the whole time limit: rarer than the rest.
  trouble: fc.oneof({ weight: 380, arbitrary: fc.constant(undefined) }, { weight: 10, arbitrary: fc.constant('spawn-error' as const) }, { weight: 1, arbitrary: fc.constant('hang' as const) }),
});
type ProcessCase = Generated<typeof processCase>;

function stdoutOf(c: ProcessCase): string {
  const o: Record<string, unknown> = {};
  if (c.mode !== undefined) o.mode = c.mode;
  o.access_key_id = c.model.accessKeyId;
  o.access_key_secret = SECRET;
  if (c.mode === undefined || c.mode.trim().toLowerCase() === 'ststoken') o.sts_token = TOKEN;
  if (c.withExpiration) o.expiration = c.model.expirationText;
  for (const m of c.fields) {
    if (m.op === 'delete') delete o[m.key];
    else if (m.op === 'pad') o.access_key_secret = `  ${SECRET}\n`;
    else o[m.key] = m.value;
  }
  return `${c.bom ? '\ufeff' : ''}${serialise(o, c.indent, c.text)}`;
}

const valid = (c: ProcessCase) => c.fields.length === 0 && c.text.length === 0 && c.exit.code === 0 && c.maxOutputBytes === undefined && c.trouble === undefined;

describe('fuzz: process output', () => {
  it('fromProcess with a fake child: External-mode JSON, exits, stderr', async () => {
    const meter = new RunMeter();
    const seen = { ok: 0, failed: 0, roundTrips: 0 };
    await fc.assert(
      fc.asyncProperty(processCase, async (c) => {
        await meter.async(async () => {
          state.plan = {
            stdout: chunks(stdoutOf(c), c.cuts),
            stderr: chunks(c.stderr, [c.cuts[0] ?? 0]),
            code: c.exit.code,
            signal: c.exit.signal,
            spawnError: c.trouble === 'spawn-error',
            hang: c.trouble === 'hang',
          };
          const logger = captureLogger();
          const provider = fromProcess({ command: c.command, timeoutMs: 20, maxOutputBytes: c.maxOutputBytes, logger, refresh: { clock: () => NOW, retry: false } });
          try {
            const creds = await provider();
            seen.ok++;
            const shown = `${String(creds)} ${JSON.stringify(creds)} ${inspect(creds, { depth: 10 })}`;
            if (leakIn(shown) !== undefined) throw new Error(`credentials show a secret: ${shown}`);
            if (valid(c)) {
              const want = c.withExpiration ? Math.min(c.model.expiresAt, NOW + 12 * HOUR) : undefined;
              if (creds.accessKeyId !== c.model.accessKeyId || creds.accessKeySecret !== SECRET) throw new Error('other keys');
              if (creds.securityToken !== (c.mode === undefined || c.mode.trim().toLowerCase() === 'ststoken' ? TOKEN : undefined)) throw new Error('other token');
              if (creds.expiration?.getTime() !== want) throw new Error(`expiration ${creds.expiration?.toISOString()}, expected ${want === undefined ? 'none' : new Date(want).toISOString()}`);
              seen.roundTrips++;
            }
          } catch (error) {
            seen.failed++;
            assertTypedAndClean(error);
            if (valid(c)) throw error;
          } finally {
            provider.close();
          }
          assertNoLeakInLogs(logger);
        });
      }),
      params(),
    );
    expect(state.spawned).toBe(meter.runs);
    expect(seen.roundTrips).toBeGreaterThan(meter.runs / 10);
    record('process output (fromProcess, fake spawn)', meter, { ok: seen.ok, typedErrors: seen.failed, exactRoundTrips: seen.roundTrips });
  });
});
