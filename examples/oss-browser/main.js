// The page script of examples/oss-browser (bundled for the browser with esbuild by server.mjs:
// ali-oss resolves to its browser build through its package.json "browser" field).
//
// Credentials: fromCredentialsUri reads the vending endpoint (createVendingHandler on the
// server), sending the user's session token; the refresh engine keeps them fresh and asks
// again ahead of expiry. ali-oss gets them through toOssOptions: refreshSTSToken answers the
// provider's current triple before every request. The page never sees a long-lived key, and
// prints no secret.
/* global document, location, Blob, URLSearchParams -- a browser page script */
import OSS from 'ali-oss';
import { fromCredentialsUri } from 'alicred';
import { toOssOptions } from 'alicred/oss';

const $ = (id) => document.getElementById(id);
const log = (line) => {
  $('log').textContent += `${new Date().toISOString().slice(11, 19)}  ${line}\n`;
};

// Defaults from the query string (?vend=…&endpoint=…&bucket=…&key=…); the token is typed.
const query = new URLSearchParams(location.search);
for (const name of ['vend', 'endpoint', 'bucket', 'key']) {
  if (query.has(name)) $(name).value = query.get(name);
}

/** One provider and one client per (endpoint, token, OSS endpoint, bucket): made once, reused. */
const clients = new Map();
async function clientFor({ vend, token, endpoint, bucket }) {
  const id = JSON.stringify([vend, token, endpoint, bucket]);
  if (!clients.has(id)) {
    const provider = fromCredentialsUri({ uri: vend, headers: { Authorization: `Bearer ${token}` } });
    const made = toOssOptions(provider, { endpoint, bucket, secure: endpoint.startsWith('https:') }).then((options) => ({ provider, client: new OSS(options) }));
    clients.set(id, made);
    made.catch(() => clients.delete(id));
  }
  return clients.get(id);
}

function show(state, summary) {
  const result = $('result');
  result.dataset.state = state;
  result.textContent = JSON.stringify(summary);
}

$('upload-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = Object.fromEntries(['vend', 'token', 'endpoint', 'bucket', 'key', 'content'].map((n) => [n, $(n).value.trim()]));
  show('working', { key: form.key });
  try {
    const { provider, client } = await clientFor(form);
    const credentials = await provider();
    // Only what is safe to show: the key id and the expiry, never the secret or the token.
    log(`credentials ${credentials.accessKeyId} (${credentials.source}) valid until ${credentials.expiration?.toISOString() ?? 'forever'}`);
    const put = await client.put(form.key, new Blob([form.content], { type: 'text/plain' }));
    log(`put ${form.key}: HTTP ${put.res.status}`);
    const got = await client.get(form.key);
    const text = typeof got.content === 'string' ? got.content : new TextDecoder().decode(got.content);
    log(`get ${form.key}: ${text.length} bytes back`);
    show('done', { key: form.key, putStatus: put.res.status, etag: put.res.headers?.etag, readBack: text, accessKeyId: credentials.accessKeyId });
  } catch (error) {
    const summary = { key: form.key, name: error?.name, code: error?.code, status: error?.status, message: String(error?.message ?? error).slice(0, 300) };
    log(`failed: ${summary.code ?? summary.name}: ${summary.message}`);
    show('error', summary);
  }
});

document.documentElement.dataset.ready = 'true';
