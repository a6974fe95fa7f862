/**
 * Every example in examples/ runs green: each is spawned as a user would run it (node, from
 * the repository, importing the built package by its name), with its loop shortened, and must
 * exit 0 and print what it promises. They talk only to the emulator they start on 127.0.0.1.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

type Example = { file: string; env?: Record<string, string>; expect: RegExp[] };

const EXAMPLES: Example[] = [
  { file: 'iot.mjs', expect: [/lists IoT products: thermometer/, /CreateProduct refused with Forbidden\.RAM/, /B may not assume the role: NoPermission/, /^OK$/m] },
  { file: 'daemon.mjs', env: { DAEMON_SECONDS: '9' }, expect: [/refreshed \(cold\)/, /refreshed \((advisory|timer)\)/, /SIGTERM: stopping/, /stopped: \d+ calls, 0 failed/] },
  { file: 'tablestore.mjs', env: { EXAMPLE_SECONDS: '5' }, expect: [/CreateTable sensor_readings: ok/, /ListTable calls signed with \d+ successive STS keys, 0 failed/] },
  { file: 'oss.mjs', expect: [/ok {3}put docs\/terms\.txt/, /list avatars\/: avatars\/ada\.png, avatars\/grace\.png/, /presigned GET .*HTTP 200/, /refused: InsufficientValidity/, /^OK$/m] },
  { file: 'pop-core.mjs', env: { EXAMPLE_SECONDS: '5' }, expect: [/QueryProductList: gateway/, /signed with \d+ successive STS keys, 0 failed/] },
  { file: 'demo.mjs', env: { DEMO_SECONDS: '8' }, expect: [/OK: zero failed calls across token expiries; B refused\./] },
  { file: 'chain-and-refresh.mjs', expect: [/1000 callers, 1 source call\(s\)/] },
];

function run(example: Example): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [resolve(root, 'examples', example.file)],
      {
        cwd: root,
        timeout: 60_000,
        maxBuffer: 4 << 20,
        // No identity from this machine's environment or home, and no metadata service.
        env: { PATH: process.env.PATH ?? '', HOME: resolve(root, 'test', 'fixtures', 'empty-home'), ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true', ...example.env },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : null) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

describe('examples/', () => {
  it('every example file is run here', () => {
    const files = readdirSync(resolve(root, 'examples')).filter((f) => f.endsWith('.mjs')).sort();
    expect(files).toEqual(EXAMPLES.map((e) => e.file).sort());
  });

  for (const example of EXAMPLES) {
    it.concurrent(`${example.file} exits 0 and prints what it promises`, async () => {
      const { code, stdout, stderr } = await run(example);
      expect(stderr, stderr).toBe('');
      expect(code, stdout).toBe(0);
      for (const pattern of example.expect) expect(stdout).toMatch(pattern);
    }, 70_000);
  }
});
