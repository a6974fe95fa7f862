// npm run demo — the seed scenario end to end against the local RAM/STS emulator.
//
// RAM user A may read, RAM user B may write; role C may call the IoT Platform API and trusts
// only A. A loop uses A's key to assume C (900 s sessions, made to expire 60x faster by the
// emulator's timeScale) and drives the official @alicloud/iot20180120 client through
// toTeaCredential for ~30 s while the tokens expire several times. Then B tries to assume C
// and is refused. Exits 0 only if every IoT call succeeded and B was refused.
//
// DEMO_SECONDS=10 npm run demo   shortens the loop.
import OpenApi from '@alicloud/openapi-client';
import Iot from '@alicloud/iot20180120';
import { fromRamRole, fromStatic, StsError } from '../dist/index.js';
import { toTeaCredential } from '../dist/tea.js';
import { startEmulator } from '../dist/testing.js';

const seconds = Number(process.env.DEMO_SECONDS ?? 30);
const timeScale = 60; // a 900 s session lasts 15 s here
const IotClient = Iot.default ?? Iot;
const started = Date.now();
const t = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;
const log = (line) => console.log(`${t()}  ${line}`);

const A = { name: 'user-a', accessKeyId: 'LTAI5tDemoUserA00000001', accessKeySecret: 'demo-secret-a-0123456789abcdef' };
const B = { name: 'user-b', accessKeyId: 'LTAI5tDemoUserB00000002', accessKeySecret: 'demo-secret-b-0123456789abcdef' };
const allow = (...actions) => ({ Statement: [{ Effect: 'Allow', Action: actions }] });

const emulator = await startEmulator({
  timeScale,
  users: [
    { ...A, policies: [allow('iot:Query*', 'iot:Get*', 'sts:AssumeRole')] }, // A: read (and may assume roles)
    { ...B, policies: [allow('iot:Create*', 'iot:Update*', 'iot:Delete*', 'sts:AssumeRole')] }, // B: write
  ],
  roles: [{ name: 'iot-operator', trustedUsers: ['user-a'], policies: [allow('iot:*')], maxSessionDuration: 3600 }],
  products: [{ productKey: 'a1DemoKey01', productName: 'thermometer' }],
});

let exitCode = 0;
try {
  console.log(`alicred demo: STS emulator on ${emulator.url}, tokens expire ${timeScale}x faster (900 s -> 15 s)\n`);
  const roleArn = emulator.roleArn('iot-operator');

  // 1. A assumes C; the provider refreshes ahead of expiry on its own.
  let reason = '';
  const provider = fromRamRole({
    source: fromStatic(A),
    roleArn,
    durationSeconds: 900,
    roleSessionName: 'demo',
    sts: { endpoint: emulator.stsEndpoint },
    refresh: {
      onEvent: (e) => {
        if (e.type === 'refresh-start') reason = e.reason;
        if (e.type === 'refreshed')
          log(`refreshed (${reason === 'cold' ? 'first call' : `${reason}, callers kept the old key meanwhile`}): ${e.accessKeyId.slice(0, 14)}… valid until ${e.expiration?.toISOString().slice(11, 19)}`);
        if (e.type === 'refresh-failed') log(`refresh failed: ${e.error?.message}`);
      },
    },
  });

  const iot = new IotClient(
    new OpenApi.Config({ credential: toTeaCredential(provider), endpoint: emulator.host, protocol: 'http' }),
  );

  let calls = 0;
  let failures = 0;
  const keysSeen = new Set();
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    try {
      const res = await iot.queryProductList(new Iot.QueryProductListRequest({ currentPage: 1, pageSize: 10 }));
      if (res.body?.success !== true) throw new Error(`unexpected response: ${JSON.stringify(res.body)}`);
      calls++;
      keysSeen.add(provider.peek()?.accessKeyId);
    } catch (error) {
      failures++;
      log(`IoT call failed: ${error.code ?? ''} ${error.message}`);
    }
    if (calls % 20 === 0 && calls > 0) log(`${calls} IoT QueryProductList calls, ${failures} failures`);
    await new Promise((r) => setTimeout(r, 250));
  }
  provider.close();
  const assumeRoleCalls = emulator.callCount('AssumeRole');
  log(`done: ${calls} IoT calls, ${failures} failures, ${assumeRoleCalls} AssumeRole calls, ${keysSeen.size} different STS keys used`);

  // 2. B is not trusted by C.
  const asB = fromRamRole({ source: fromStatic(B), roleArn, sts: { endpoint: emulator.stsEndpoint }, cache: false });
  try {
    await asB();
    log('UNEXPECTED: user B assumed the role');
    exitCode = 1;
  } catch (error) {
    const ok = error instanceof StsError && error.code === 'NoPermission';
    log(`user B -> AssumeRole ${roleArn}: refused with ${error.code} (${error.message})`);
    if (!ok) exitCode = 1;
  } finally {
    asB.close();
  }

  if (failures > 0 || calls === 0 || assumeRoleCalls < 2) exitCode = 1;
  console.log(exitCode === 0 ? '\nOK: zero failed calls across token expiries; B refused.' : '\nFAILED');
} finally {
  await emulator.close();
}
process.exit(exitCode);
