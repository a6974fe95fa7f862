// npm run example:pop-core — a legacy @alicloud/pop-core RPCClient (>= 1.8.0) kept on a role's
// current credentials with toPopCoreConfig, against the local emulator's IoT endpoint.
//
// Use this when code already uses pop-core's RPCClient/ROAClient: the config's
// credentialsProvider asks the alicred provider before every request, so the client never
// signs with an expired token and never sends an unsigned request.
import RPCClient from '@alicloud/pop-core';
import { fromRamRole, fromStatic } from 'alicred';
import { toPopCoreConfig } from 'alicred/pop-core';
import { startEmulator } from 'alicred/testing';

const user = { name: 'ops', accessKeyId: 'LTAI5tPopExample000001', accessKeySecret: 'pop-example-secret-0123' };
const emulator = await startEmulator({
  timeScale: 300, // 900 s tokens last 3 s here: the loop below spans several refreshes
  users: [{ ...user, policies: [{ Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }] }] }],
  roles: [{ name: 'iot-operator', trustedUsers: ['ops'], policies: [{ Statement: [{ Effect: 'Allow', Action: 'iot:Query*' }] }] }],
  products: [{ productKey: 'a1PopExample', productName: 'gateway' }],
});

const provider = fromRamRole({ source: fromStatic(user), roleArn: emulator.roleArn('iot-operator'), durationSeconds: 900, sts: { endpoint: emulator.stsEndpoint } });
const client = new RPCClient(toPopCoreConfig(provider, { endpoint: emulator.url, apiVersion: '2018-01-20' }));

let calls = 0;
let failed = 0;
const keys = new Set();
try {
  const until = Date.now() + Number(process.env.EXAMPLE_SECONDS ?? 8) * 1000;
  while (Date.now() < until) {
    try {
      const answer = await client.request('QueryProductList', { CurrentPage: 1, PageSize: 10 }, { method: 'POST' });
      if (answer.Success !== true) throw new Error(`unexpected answer ${JSON.stringify(answer)}`);
      calls++;
      keys.add(provider.peek()?.accessKeyId);
      if (calls === 1) console.log(`QueryProductList: ${answer.Data.List.ProductInfo.map((p) => p.ProductName).join(', ')}`);
    } catch (error) {
      failed++;
      console.log(`call failed: ${error.code ?? ''} ${error.message}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
} finally {
  provider.close();
  await emulator.close();
}
console.log(`${calls} RPC calls signed with ${keys.size} successive STS keys, ${failed} failed`);
process.exitCode = failed === 0 && calls > 0 && keys.size >= 2 ? 0 : 1;
