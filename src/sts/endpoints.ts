/**
 * Choosing the STS endpoint.
 *
 * Precedence:
 *
 * 1. an explicit `endpoint` option;
 * 2. env `ALIBABA_CLOUD_STS_ENDPOINT` (injected by ACK's pod-identity webhook);
 * 3. a region (`region` option, else env `ALIBABA_CLOUD_STS_REGION`):
 *    `sts.<region>.aliyuncs.com`, or `sts-vpc.<region>.aliyuncs.com` when VPC endpoints are
 *    enabled (`vpc` option, else env `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true`);
 * 4. `sts.aliyuncs.com`.
 *
 * An endpoint is a bare host (`sts.cn-hangzhou.aliyuncs.com`, `host:port`), which means
 * HTTPS, or an `https://` URL. Plain `http://` is accepted only for loopback hosts
 * (`localhost`, `127.0.0.0/8`, `[::1]`), for local emulators: STS answers carry secrets.
 *
 * Universal code: only the WHATWG `URL` class is used.
 */
import { ConfigError } from '../errors.js';
import { envFlag, envString } from '../internal/env.js';

/** Env variable with the STS endpoint (host or URL); ACK's pod-identity webhook sets it. */
export const STS_ENDPOINT_ENV = 'ALIBABA_CLOUD_STS_ENDPOINT';
/** Env variable with the region of the STS endpoint, used when no endpoint is given. */
export const STS_REGION_ENV = 'ALIBABA_CLOUD_STS_REGION';
/** Env variable: `true` (case-insensitive) selects the `sts-vpc.<region>` endpoint. */
export const STS_VPC_ENV = 'ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED';
/** The unified public endpoint, used when nothing else is configured. */
export const DEFAULT_STS_HOST = 'sts.aliyuncs.com';

/**
 * The options {@link resolveStsEndpoint} reads (a subset of `StsClientOptions`).
 *
 * @example
 * ```ts
 * import type { StsEndpointOptions } from 'alicred';
 * const options: StsEndpointOptions = { region: 'cn-hangzhou', vpc: true };
 * ```
 */
export type StsEndpointOptions = {
  /** A host (`sts.cn-hangzhou.aliyuncs.com`, HTTPS implied) or a URL (`https://…`, `http://127.0.0.1:8080`). */
  endpoint?: string | undefined;
  /** Region id, e.g. `cn-hangzhou`: gives `sts.cn-hangzhou.aliyuncs.com`. */
  region?: string | undefined;
  /** With a region: use `sts-vpc.<region>.aliyuncs.com`. */
  vpc?: boolean | undefined;
};

/**
 * Where the resolved endpoint came from.
 *
 * @example
 * ```ts
 * import { resolveStsEndpoint } from 'alicred';
 * resolveStsEndpoint({}, {}).source; // 'default'
 * ```
 */
export type StsEndpointSource = 'option' | 'env' | 'region' | 'default';

/**
 * The result of {@link resolveStsEndpoint}.
 *
 * @example
 * ```ts
 * import { resolveStsEndpoint, type ResolvedStsEndpoint } from 'alicred';
 * const e: ResolvedStsEndpoint = resolveStsEndpoint({ endpoint: 'http://127.0.0.1:8080' }, {});
 * e.host; // '127.0.0.1:8080'
 * ```
 */
export type ResolvedStsEndpoint = {
  /** `https://host[:port]` or `http://<loopback>:port`, no trailing slash. */
  readonly url: string;
  /** `host[:port]` as `fetch` sends it in the `Host` header (what V3 signs). */
  readonly host: string;
  /** Which rule picked it. */
  readonly source: StsEndpointSource;
};

const REGION_RE = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * True for a loopback host name: `localhost`, any IPv4 address in `127.0.0.0/8`, `::1`
 * (with or without brackets) and IPv4-mapped loopback (`::ffff:127.x.y.z`). Takes a host
 * name without port, as `URL.hostname` gives it. Names are not resolved: `my-host` that
 * happens to point at 127.0.0.1 is not loopback here.
 *
 * @example
 * ```ts
 * import { isLoopbackHost } from 'alicred';
 * isLoopbackHost('127.0.0.1');        // true
 * isLoopbackHost('[::1]');            // true
 * isLoopbackHost('localhost');        // true
 * isLoopbackHost('sts.aliyuncs.com'); // false
 * ```
 */
export function isLoopbackHost(host: string): boolean {
  let h = stripBrackets(host.trim().toLowerCase());
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h === '' || /[\s/?#@]/.test(h)) return false;
  if (h === 'localhost') return true;
  // Let the URL parser normalise the many spellings of an address (127.1, 0x7f.0.0.1,
  // 0:0:0:0:0:0:0:1, ::ffff:127.0.0.1), exactly as fetch will read them.
  let normalised: string;
  try {
    normalised = stripBrackets(new URL(h.includes(':') ? `http://[${h}]/` : `http://${h}/`).hostname);
  } catch {
    return false;
  }
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(normalised);
  if (v4) return v4[1] === '127';
  if (normalised === '::1') return true;
  // ::ffff:7f00:1 is the normalised form of ::ffff:127.0.0.1
  return /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(normalised);
}

function endpointError(field: string, value: string, rule: string): ConfigError {
  const shown = value.length > 120 ? `${value.slice(0, 120)}…` : value;
  return new ConfigError(`${field} ${JSON.stringify(shown)} is not a usable STS endpoint: ${rule}`, {
    field,
    provider: 'sts',
    code: 'InvalidEndpoint',
  });
}

/**
 * Parses a host or URL given as an STS endpoint and applies the transport rule.
 * `field` names the setting in error messages.
 */
function parseEndpoint(raw: string, field: string, source: StsEndpointSource): ResolvedStsEndpoint {
  let value = raw.trim();
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value);
  // A bare host may carry one trailing slash (`sts.aliyuncs.com/`), as the aliyun CLI accepts.
  if (!hasScheme && value.endsWith('/')) value = value.slice(0, -1);
  if (!hasScheme && /[/?#@\s]/.test(value)) {
    throw endpointError(field, raw, 'give a host (e.g. sts.cn-hangzhou.aliyuncs.com) or an https:// URL');
  }
  let url: URL;
  try {
    url = new URL(hasScheme ? value : `https://${value}`);
  } catch {
    throw endpointError(field, raw, 'it is neither a host name nor a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw endpointError(field, raw, `the scheme must be https (or http for a loopback host), not ${url.protocol.slice(0, -1)}`);
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw endpointError(
      field,
      raw,
      'plain http is accepted only for loopback hosts (localhost, 127.0.0.0/8, [::1]); use https',
    );
  }
  if (url.hostname === '') throw endpointError(field, raw, 'the host is empty');
  if (url.username !== '' || url.password !== '') {
    throw endpointError(field, raw, 'user info (user:password@) is not allowed');
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw endpointError(field, raw, 'STS is an RPC API served at "/": remove the path, query and fragment');
  }
  return { url: url.origin, host: url.host, source };
}

function regionHost(region: string, vpc: boolean, field: string): string {
  if (!REGION_RE.test(region)) {
    throw new ConfigError(
      `${field} ${JSON.stringify(region.slice(0, 64))} is not a region id: use lower-case letters, digits and hyphens, e.g. cn-hangzhou`,
      { field, provider: 'sts', code: 'InvalidRegion' },
    );
  }
  return `${vpc ? 'sts-vpc' : 'sts'}.${region}.aliyuncs.com`;
}

/**
 * Picks the STS endpoint: explicit `endpoint` > env `ALIBABA_CLOUD_STS_ENDPOINT` > region
 * (`region`, else env `ALIBABA_CLOUD_STS_REGION`; `sts-vpc.` when `vpc`, else env
 * `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true`) > `sts.aliyuncs.com`. An explicit `vpc: false`
 * overrides the env variable. `vpc` without a region gives `sts.aliyuncs.com`, as in the
 * official SDKs. Empty or blank env values count as unset.
 *
 * Throws a {@link ConfigError} (with `field` set to the option or env variable) for an
 * empty explicit value, a malformed host or URL, a path/query, a scheme other than
 * https, plain http to a non-loopback host, or a malformed region id.
 *
 * @example
 * ```ts
 * import { resolveStsEndpoint } from 'alicred';
 * resolveStsEndpoint({ region: 'cn-hangzhou', vpc: true }, {}).url; // 'https://sts-vpc.cn-hangzhou.aliyuncs.com'
 * resolveStsEndpoint({}, { ALIBABA_CLOUD_STS_ENDPOINT: 'sts.cn-shanghai.aliyuncs.com' }).url;
 * // 'https://sts.cn-shanghai.aliyuncs.com'
 * resolveStsEndpoint({ endpoint: 'http://127.0.0.1:8080/' }, {}); // { url: 'http://127.0.0.1:8080', host: '127.0.0.1:8080', source: 'option' }
 * ```
 */
export function resolveStsEndpoint(
  options: StsEndpointOptions = {},
  env: Record<string, string | undefined> = {},
): ResolvedStsEndpoint {
  if (options.endpoint !== undefined) {
    if (typeof options.endpoint !== 'string' || options.endpoint.trim() === '') {
      throw new ConfigError('endpoint must be a non-empty host or URL (leave it undefined for the default)', {
        field: 'endpoint',
        provider: 'sts',
        code: 'InvalidEndpoint',
      });
    }
    return parseEndpoint(options.endpoint, 'endpoint', 'option');
  }
  const envEndpoint = envString(env, STS_ENDPOINT_ENV);
  if (envEndpoint !== undefined) return parseEndpoint(envEndpoint, STS_ENDPOINT_ENV, 'env');

  let region: string | undefined;
  let regionField = 'region';
  if (options.region !== undefined) {
    if (typeof options.region !== 'string' || options.region.trim() === '') {
      throw new ConfigError('region must be a non-empty region id such as cn-hangzhou (leave it undefined for the default)', {
        field: 'region',
        provider: 'sts',
        code: 'InvalidRegion',
      });
    }
    region = options.region.trim();
  } else {
    region = envString(env, STS_REGION_ENV);
    regionField = STS_REGION_ENV;
  }
  if (region === undefined) {
    return { url: `https://${DEFAULT_STS_HOST}`, host: DEFAULT_STS_HOST, source: 'default' };
  }
  const vpc = options.vpc ?? envFlag(env, STS_VPC_ENV);
  const host = regionHost(region, vpc, regionField);
  return { url: `https://${host}`, host, source: 'region' };
}
