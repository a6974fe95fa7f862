// npm run example:iot — the seed scenario: least privilege with STS, against the local emulator.
//
// RAM user A assumes role C with a session policy that narrows C to read-only IoT calls, and
// calls the IoT Platform API with the official @alicloud/iot20180120 client. The same session
// is refused a write (the session policy), and RAM user B, whom C does not trust, is refused
// the role itself. Use this shape when a service should hold short-lived keys scoped to one
// product instead of a RAM user's long-lived ones.
import OpenApi from '@alicloud/openapi-client';
import Iot from '@alicloud/iot20180120';
import { fromRamRole, fromStatic, StsError } from 'alicred';
import { toTeaCredential } from 'alicred/tea';
import { startEmulator } from 'alicred/testing';

const IotClient = Iot.default ?? Iot;
const A = { name: 'user-a', accessKeyId: 'LTAI5tIotExampleA000001', accessKeySecret: 'example-secret-a-0123456789' };
const B = { name: 'user-b', accessKeyId: 'LTAI5tIotExampleB000002', accessKeySecret: 'example-secret-b-0123456789' };
const allow = (...actions) => ({ Statement: [{ Effect: 'Allow', Action: actions }] });

const emulator = await startEmulator({
  users: [
    { ...A, policies: [allow('sts:AssumeRole')] },
    { ...B, policies: [allow('sts:AssumeRole')] },
  ],
  roles: [{ name: 'iot-operator', trustedUsers: ['user-a'], policies: [allow('iot:*')] }],
  products: [{ productKey: 'a1ExampleKey', productName: 'thermometer' }],
});
const roleArn = emulator.roleArn('iot-operator');
const failures = [];
const check = (ok, line) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${line}`);
  if (!ok) failures.push(line);
};

try {
  // A's session: the role's permissions narrowed to IoT reads by a session policy.
  const readOnly = fromRamRole({
    source: fromStatic(A),
    roleArn,
    roleSessionName: 'iot-reader',
    durationSeconds: 900,
    policy: JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: ['iot:Query*', 'iot:Get*'], Resource: '*' }] }),
    sts: { endpoint: emulator.stsEndpoint },
  });
  const iot = new IotClient(new OpenApi.Config({ credential: toTeaCredential(readOnly), endpoint: emulator.host, protocol: 'http' }));

  const list = await iot.queryProductList(new Iot.QueryProductListRequest({ currentPage: 1, pageSize: 10 }));
  const names = list.body?.data?.list?.productInfo?.map((p) => p.productName) ?? [];
  check(list.body?.success === true, `A (session ${readOnly.peek()?.accessKeyId.slice(0, 12)}…) lists IoT products: ${names.join(', ')}`);

  const write = await iot
    .createProduct(new Iot.CreateProductRequest({ productName: 'not-allowed', nodeType: 0 }))
    .then(() => undefined, (error) => error);
  check(write?.code === 'Forbidden.RAM', `the same session may not write: CreateProduct refused with ${write?.code}`);

  const asB = fromRamRole({ source: fromStatic(B), roleArn, sts: { endpoint: emulator.stsEndpoint }, cache: false });
  const refused = await asB().then(() => undefined, (error) => error);
  check(refused instanceof StsError && refused.code === 'NoPermission', `B may not assume the role: ${refused?.code}`);
  asB.close();
  readOnly.close();
} finally {
  await emulator.close();
}
console.log(failures.length === 0 ? '\nOK' : `\nFAILED: ${failures.length} check(s)`);
process.exitCode = failures.length === 0 ? 0 : 1;
