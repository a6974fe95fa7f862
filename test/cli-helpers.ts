/**
 * Running the `alicred` command as a child process, as a user would.
 *
 * Runs the BUILT command, dist/cli.js, as a user would (node and the file npm links as `alicred`).
 *
 * Every child runs with test/reliability/peer-preload.mjs: a request to a host that is not
 * loopback fails at once and is reported on stderr as `peer-net …` (tests assert none).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const PRELOAD = join(root, 'test', 'reliability', 'peer-preload.mjs');

/** The built command, dist/cli.js (npm test builds dist/ first); nothing to clean up. */
export async function bundleCli(): Promise<{ cli: string; cleanup: () => Promise<void> }> {
  const cli = join(root, 'dist', 'cli.js');
  await access(cli);
  return { cli, cleanup: async () => {} };
}

/** A clean environment for a child: nothing of the developer's ALIBABA_CLOUD_* settings. */
export function baseEnv(home: string, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export type CliResult = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

/** The argv that runs the command (node, the preload, the bundle). */
export function cliArgv(cli: string, args: readonly string[]): string[] {
  return ['--import', PRELOAD, cli, ...args];
}

/** Runs `alicred <args>` to completion. */
export function runCli(cli: string, args: readonly string[], env: Record<string, string>, timeoutMs = 15_000): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, cliArgv(cli, args), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`alicred ${args.join(' ')} did not finish in ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** A long-running command (serve, emulator): its first stdout line, its output so far, and stop(). */
export type RunningCli = {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  /** Resolves when stderr contains `text` (or rejects after a while). */
  waitForStderr(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /** Sends `signal` (default SIGTERM) and resolves with how it ended. */
  stop(signal?: NodeJS.Signals): Promise<CliResult>;
};

/** Starts `alicred <args>`; resolves once `ready` (default: a first stdout line) has been printed, or rejects if it exits first. */
export function startCli(cli: string, args: readonly string[], env: Record<string, string>, ready: (o: { stdout: string; stderr: string }) => boolean = (o) => o.stdout.includes('\n')): Promise<RunningCli> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, cliArgv(cli, args), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    let done: CliResult | undefined;
    const exited = new Promise<CliResult>((resolveExit) => {
      child.on('close', (code, signal) => {
        done = { code, signal, ...out };
        resolveExit(done);
      });
    });
    const listeners = new Set<() => void>();
    const changed = () => {
      for (const l of listeners) l();
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => ((out.stdout += d), changed()));
    child.stderr.setEncoding('utf8').on('data', (d: string) => ((out.stderr += d), changed()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`alicred ${args.join(' ')} did not get ready; stderr: ${out.stderr}`));
    }, 15_000);
    const running: RunningCli = {
      child,
      output: () => ({ ...out }),
      waitForStderr(text, timeoutMs = 10_000) {
        return new Promise((ok, fail) => {
          const check = () => {
            if (typeof text === 'string' ? out.stderr.includes(text) : text.test(out.stderr)) {
              listeners.delete(check);
              clearTimeout(t);
              ok();
            }
          };
          const t = setTimeout(() => {
            listeners.delete(check);
            fail(new Error(`stderr never showed ${String(text)}: ${out.stderr}`));
          }, timeoutMs);
          listeners.add(check);
          check();
        });
      },
      async stop(signal = 'SIGTERM') {
        if (done === undefined) child.kill(signal);
        return exited;
      },
    };
    const check = () => {
      if (ready(out)) {
        listeners.delete(check);
        clearTimeout(timer);
        resolvePromise(running);
      }
    };
    listeners.add(check);
    void exited.then((result) => {
      if (!listeners.has(check)) return;
      clearTimeout(timer);
      reject(Object.assign(new Error(`alicred ${args.join(' ')} exited with ${result.code}: ${result.stderr}`), { result }));
    });
  });
}

/** Every secret in `secrets` (of 4+ characters) that occurs in `text`. */
export function leakedSecrets(text: string, secrets: Iterable<string>): string[] {
  return [...secrets].filter((s) => s.length >= 4 && text.includes(s));
}
