/**
 * Mutation check of the refresh engine: breaks one rule of src/refresh-engine.ts at a time,
 * in a throwaway git worktree of HEAD, and runs the tests that guard the engine. Every
 * mutation must make them fail ("caught"); one that passes means a rule no test holds.
 *
 *   npm run mutate:engine            # all mutations (about 10 minutes on 2 cores)
 *   npm run mutate:engine -- timer   # only those whose name contains "timer"
 *
 * Exits 1 when a mutation is missed or no longer applies (its text is gone from the engine:
 * update the list with the code).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** [name, text in the engine, what replaces it]. Each breaks one rule of the refresh timeline. */
const MUTATIONS = [
  ['no single-flight', 'if (this.#inflight) return this.#inflight;', ''],
  ['served inside the mandatory window', 'if (now < current.mandatoryAt) {\n        this.#refreshAhead(now);', 'if (true) {\n        this.#refreshAhead(now);'],
  ['forceRefresh ignored', 'if (current !== undefined && (callOptions === undefined || isPlain(callOptions)))', 'if (current !== undefined)'],
  ['no backoff after a failure', 'this.#quietUntil = this.#elapsedNow() + retryInMs;', 'this.#quietUntil = 0;'],
  ['every error retried', 'shouldRetry: isRetryableError,', 'shouldRetry: () => true,'],
  ['expired credentials accepted', 'if (expiresAt !== undefined && !(expiresAt > wall)) {', 'if (false) {'],
  ['monotonic clock only (a sleep goes unnoticed)', 'return Math.max(monotonicNow(), Date.now() + e.wallAnchor);', 'return monotonicNow();'],
  ['the timer refreshes an unused provider', '    if (!this.#used) return;\n', ''],
  [
    'no backoff for unmet demands',
    "      if (this.#lastError !== undefined && now < this.#quietUntil && (reason === 'mandatory' || minValidityMs >= this.#unmetDemandMs)) {\n        throw this.#lastError;\n      }",
    '',
  ],
  ['results not validated', 'return normalizeCredentials(value, this.#name(), (reason) =>', 'return value as Credentials; return normalizeCredentials(value, this.#name(), (reason) =>'],
  ['the deadline never holds the process', 'if (run.waiters++ === 0) setHold(run.deadline, true);', 'run.waiters++;', { build: true }],
  ['the timer holds its provider strongly', "target: typeof WeakRef === 'function' ? new WeakRef(this) : { deref: () => this }", 'target: { deref: () => this }', { build: true }],
  [
    'forced refreshes not forced to the source',
    "run.promise = this.#runRefresh(reason === 'forced' || reason === 'mandatory' || reason === 'min-validity', run)",
    'run.promise = this.#runRefresh(false, run)',
  ],
  ['a use never arms the timer', 'if (current !== undefined && this.#timerBox?.handle === undefined) this.#scheduleAdvisory(current);', ''],
  ['the timer is armed on arrival though unused', '      this.#clearTimer();\n    }\n    return fresh;', '      this.#scheduleAdvisory(fresh);\n    }\n    return fresh;'],
  ['the mandatory point 1 s late', 'mandatoryAt: Math.floor(expiresAtElapsed - mandatoryMs),', 'mandatoryAt: Math.ceil(expiresAtElapsed - mandatoryMs + 1000),'],
  ['the issued lifetime ignored', 'const lifetimeMs = Math.max(remainingMs, issuedLifetimeOf(credentials) ?? 0);', 'const lifetimeMs = remainingMs;'],
];

/** The tests that guard the engine's rules (the soak test is the one that sees a lifetime). */
const TESTS = [
  'test/refresh.test.ts',
  'test/hardening-engine.test.ts',
  'test/retry.test.ts',
  'test/chain.test.ts',
  'test/cache.test.ts',
  'test/ram-role.test.ts',
  'test/hardening-process.test.ts',
  'test/reliability/lifecycle.test.ts',
  'test/reliability/faults-sts.test.ts',
  'test/reliability/soak.test.ts',
];

const only = process.argv[2];
const chosen = MUTATIONS.filter(([name]) => only === undefined || name.includes(only));
const dir = mkdtempSync(join(tmpdir(), 'alicred-mutate-'));
const work = join(dir, 'tree');
execFileSync('git', ['worktree', 'add', '--detach', work, 'HEAD'], { cwd: ROOT, stdio: 'ignore' });
symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'));
const engine = join(work, 'src/refresh-engine.ts');
const original = readFileSync(engine, 'utf8');
const build = () => execFileSync('npm', ['run', 'build'], { cwd: work, stdio: 'ignore' });
const results = [];
try {
  build();
  for (const [name, from, to, opts] of chosen) {
    if (!original.includes(from)) {
      results.push([name, 'NO LONGER APPLIES']);
      console.log(`${name}: NO LONGER APPLIES (its text is not in src/refresh-engine.ts)`);
      continue;
    }
    writeFileSync(engine, original.replace(from, to));
    // Tests that spawn a child use dist/: rebuild for the mutations they must catch.
    if (opts?.build) build();
    const run = spawnSync('npx', ['vitest', 'run', ...TESTS], { cwd: work, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    const tally = /tests: (\d+) passed, (\d+) failed/.exec(`${run.stdout}${run.stderr}`)?.[0] ?? `exit ${run.status}`;
    const verdict = run.status === 0 ? 'MISSED' : 'caught';
    results.push([name, verdict]);
    console.log(`${name}: ${verdict} (${tally})`);
    writeFileSync(engine, original);
    if (opts?.build) build();
  }
} finally {
  execFileSync('git', ['worktree', 'remove', '--force', work], { cwd: ROOT, stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}
const bad = results.filter(([, verdict]) => verdict !== 'caught');
console.log(`\n${results.length - bad.length} of ${results.length} mutations caught.`);
process.exit(bad.length === 0 ? 0 : 1);
