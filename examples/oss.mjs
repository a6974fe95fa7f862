// npm run example:oss — ali-oss in Node on a role's current credentials (toOssOptions):
// uploads, a listing, and a presigned download (signOssUrl) fetched with plain fetch, against
// the local emulator's OSS endpoint.
//
// Use this for ali-oss in a service or a browser app: the client asks the provider before each
// request (answered from its cache, refreshed ahead of expiry) instead of on ali-oss's own
// 5-minute clock, and a presigned URL is only ever signed with a credential that outlives it.
import OSS from 'ali-oss';
import { fromRamRole, fromStatic } from 'alicred';
import { signOssUrl, toOssOptions } from 'alicred/oss';
import { startEmulator } from 'alicred/testing';

const user = { name: 'web', accessKeyId: 'LTAI5tOssExample000001', accessKeySecret: 'oss-example-secret-0123' };
const emulator = await startEmulator({
  users: [{ ...user, policies: [{ Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }] }] }],
  roles: [{ name: 'uploader', trustedUsers: ['web'], policies: [{ Statement: [{ Effect: 'Allow', Action: 'oss:*', Resource: ['acs:oss:*:*:user-uploads', 'acs:oss:*:*:user-uploads/*'] }] }] }],
});
const failures = [];
const check = (ok, line) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${line}`);
  if (!ok) failures.push(line);
};

const provider = fromRamRole({ source: fromStatic(user), roleArn: emulator.roleArn('uploader'), durationSeconds: 3600, sts: { endpoint: emulator.stsEndpoint } });
try {
  const bucket = 'user-uploads';
  const store = new OSS(await toOssOptions(provider, { endpoint: emulator.url, region: 'oss-cn-hangzhou', bucket }));

  for (const name of ['avatars/ada.png', 'avatars/grace.png', 'docs/terms.txt']) {
    const put = await store.put(name, Buffer.from(`contents of ${name}`));
    check(put.res.status === 200, `put ${name} (signed with ${provider.peek()?.accessKeyId.slice(0, 12)}…)`);
  }
  const listed = await store.list({ prefix: 'avatars/', 'max-keys': 10 }, {});
  check(listed.objects?.length === 2, `list avatars/: ${listed.objects?.map((o) => o.name).join(', ')}`);

  // Presigning: real OSS URLs point at <bucket>.oss-<region>.aliyuncs.com. The emulator serves
  // path-style on its own address, and ali-oss will not presign for an IP endpoint, so this
  // client signs for a path-style name and the URL is sent to the emulator (the V1 signature
  // covers bucket and object, not the host).
  const presigner = new OSS(await toOssOptions(provider, { endpoint: 'http://oss.example.invalid', region: 'oss-cn-hangzhou', bucket, sldEnable: true }));
  const signed = new URL(await signOssUrl(presigner, provider, 'docs/terms.txt', { expires: 600 }));
  const local = `${emulator.url}${signed.pathname}${signed.search}`;
  const download = await fetch(local);
  check(download.status === 200 && (await download.text()) === 'contents of docs/terms.txt', `presigned GET (valid 600 s, and so is its token): HTTP ${download.status}`);

  const tooLong = await signOssUrl(presigner, provider, 'docs/terms.txt', { expires: 7200 }).catch((error) => error);
  check(tooLong?.code === 'InsufficientValidity', `a URL valid 7200 s from a 3600 s role session is refused: ${tooLong?.code}`);
} finally {
  provider.close();
  await emulator.close();
}
console.log(failures.length === 0 ? '\nOK' : `\nFAILED: ${failures.length} check(s)`);
process.exitCode = failures.length === 0 ? 0 : 1;
