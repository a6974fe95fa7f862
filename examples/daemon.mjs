// npm run example:daemon — a long-running service: the default chain finds the service's own
// identity, fromRamRole turns it into short-lived role credentials that refresh ahead of
// expiry, and SIGTERM/SIGINT shut it down cleanly (close() stops the background timer).
//
// Against the local emulator, with tokens expiring 60x faster (900 s -> 15 s), the service's
// identity in ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET as a deployment would set it, and STS
// GetCallerIdentity as the "work". It prints the refresh timeline, then stops itself with
// SIGTERM after DAEMON_SECONDS (default 40). Use this shape for a worker, a queue consumer or
// a web server that runs for days.
import { createStsClient, fromRamRole } from 'alicred';
import { defaultProvider } from 'alicred/node';
import { startEmulator } from 'alicred/testing';

const seconds = Number(process.env.DAEMON_SECONDS ?? 40);
const started = Date.now();
const log = (line) => console.log(`${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s  ${line}`);

const service = { name: 'billing-service', accessKeyId: 'LTAI5tDaemonExample0001', accessKeySecret: 'daemon-example-secret-0123' };
const emulator = await startEmulator({
  timeScale: 60,
  users: [{ ...service, policies: [{ Statement: [{ Effect: 'Allow', Action: 'sts:*' }] }] }],
  roles: [{ name: 'billing-worker', trustedUsers: ['billing-service'] }],
});

// What the deployment provides: the service's identity, and no metadata service here.
process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = service.accessKeyId;
process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = service.accessKeySecret;
process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = 'true';

let reason = '';
const credentials = fromRamRole({
  source: defaultProvider(),
  roleArn: emulator.roleArn('billing-worker'),
  roleSessionName: 'billing-worker',
  durationSeconds: 900,
  sts: { endpoint: emulator.stsEndpoint },
  logger: console, // failed background refreshes are warned about, never thrown at callers
  refresh: {
    onEvent(event) {
      if (event.type === 'refresh-start') reason = event.reason;
      if (event.type === 'refreshed') {
        const until = event.expiration?.toISOString().slice(11, 19);
        log(`refreshed (${reason}): ${event.accessKeyId.slice(0, 12)}… valid until ${until}`);
      }
    },
  },
});

// The work itself: STS GetCallerIdentity, signed with the current role credentials.
const sts = createStsClient({ endpoint: emulator.stsEndpoint });

let running = true;
let calls = 0;
let failures = 0;
async function work() {
  while (running) {
    try {
      const me = await sts.getCallerIdentity(await credentials());
      calls++;
      if (calls % 40 === 1) log(`working as ${me.arn}`);
    } catch (error) {
      failures++;
      log(`call failed: ${error.code ?? ''} ${error.message}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const done = work();
async function shutdown(signal) {
  if (!running) return;
  log(`${signal}: stopping`);
  running = false;
  await done; // the call in flight finishes
  credentials.close(); // no timer left: the process can exit on its own
  await emulator.close();
  log(`stopped: ${calls} calls, ${failures} failed, ${emulator.callCount('AssumeRole')} AssumeRole calls`);
  process.exitCode = failures === 0 && calls > 0 ? 0 : 1;
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));
setTimeout(() => process.kill(process.pid, 'SIGTERM'), seconds * 1000).unref();
