// npm run example:tablestore — a Table Store (tablestore) client kept on a role's current
// credentials with bindTableStoreClient, against the local emulator's Table Store endpoint.
//
// Use this for a tablestore data client in a long-running process: every request (and every
// retry) awaits the provider and signs with one consistent snapshot, so the client never
// sends an expired token, and nobody has to rebuild the client when the token rotates.
import TableStore from 'tablestore';
import { fromRamRole, fromStatic } from 'alicred';
import { bindTableStoreClient } from 'alicred/tablestore';
import { startEmulator } from 'alicred/testing';

const user = { name: 'ingest', accessKeyId: 'LTAI5tOtsExample000001', accessKeySecret: 'ots-example-secret-0123' };
const emulator = await startEmulator({
  timeScale: 300, // 900 s tokens last 3 s here: the loop below spans several refreshes
  users: [{ ...user, policies: [{ Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }] }] }],
  roles: [{ name: 'ots-writer', trustedUsers: ['ingest'], policies: [{ Statement: [{ Effect: 'Allow', Action: 'ots:*' }] }] }],
});

const provider = fromRamRole({ source: fromStatic(user), roleArn: emulator.roleArn('ots-writer'), durationSeconds: 900, sts: { endpoint: emulator.stsEndpoint } });
// No keys in the client's own config: the provider signs every request.
const client = bindTableStoreClient(new TableStore.Client({ endpoint: emulator.url, instancename: 'example-instance', maxRetries: 2 }), provider);

let calls = 0;
let failed = 0;
const keys = new Set();
try {
  await client.createTable({
    tableMeta: { tableName: 'sensor_readings', primaryKey: [{ name: 'device', type: 'STRING' }, { name: 'ts', type: 'INTEGER' }] },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
    tableOptions: { timeToLive: -1, maxVersions: 1 },
  });
  console.log('CreateTable sensor_readings: ok');
  const until = Date.now() + Number(process.env.EXAMPLE_SECONDS ?? 8) * 1000;
  while (Date.now() < until) {
    try {
      const { tableNames } = await client.listTable({});
      if (!tableNames.includes('sensor_readings')) throw new Error(`unexpected tables ${tableNames}`);
      calls++;
      keys.add(provider.peek()?.accessKeyId);
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
console.log(`${calls} ListTable calls signed with ${keys.size} successive STS keys, ${failed} failed`);
process.exitCode = failed === 0 && calls > 0 && keys.size >= 2 ? 0 : 1;
