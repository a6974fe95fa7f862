/**
 * Runs the @alicloud/credentials default chain for differential.test.ts, in a child process
 * of its own (the peer reads process.env and os.homedir()); always started with
 * `--import ./peer-preload.mjs`. argv[2] is JSON `{ steps: [{ env?, files?, waitMs? }] }`:
 * before each call it applies the step (env values null = unset; file paths relative to
 * HOME, text null = delete), then calls getCredential() on one Credential instance, so
 * state kept between calls (pinning, cached sessions) shows. Prints `{ calls: [...] }`.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const mod = require('@alicloud/credentials');
const Credential = mod.default ?? mod;

const { steps } = JSON.parse(process.argv[2]);
const home = process.env.HOME;
const credential = new Credential();
const calls = [];
for (const step of steps) {
  for (const [k, v] of Object.entries(step.env ?? {})) {
    if (v === null) delete process.env[k];
    else process.env[k] = v;
  }
  for (const [path, text] of Object.entries(step.files ?? {})) {
    const full = join(home, path);
    if (text === null) rmSync(full, { force: true });
    else {
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, text, { mode: 0o600 });
    }
  }
  if (step.waitMs) await new Promise((r) => setTimeout(r, step.waitMs));
  try {
    const m = await credential.getCredential();
    calls.push({ ok: true, id: m.accessKeyId, token: Boolean(m.securityToken) });
  } catch {
    calls.push({ ok: false });
  }
}
process.stdout.write(`${JSON.stringify({ calls })}\n`);
// The peer may leave timers or keep-alive sockets behind.
process.exit(0);
