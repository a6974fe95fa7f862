/**
 * The emulator's credential-vending endpoints: the ECS instance metadata service (IMDS,
 * normal and hardening/IMDSv2 mode) and a credentials-URI endpoint. Both hand out STS
 * credentials issued by the emulator itself, so the product API accepts them.
 *
 * @internal
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { EmulatorCredentialsUriOptions, EmulatorEcsOptions, MetadataTokenState } from './types.js';

/** Path of the IMDSv2 token endpoint (`PUT`). */
export const METADATA_TOKEN_PATH = '/latest/api/token';
/** Path of the role listing; the credentials of a role are at this path plus its name. */
export const METADATA_CREDENTIALS_PATH = '/latest/meta-data/ram/security-credentials/';
/** Default path of the credentials-URI endpoint. */
export const DEFAULT_CREDENTIALS_URI_PATH = '/credentials-uri';
/** Header that asks for an IMDSv2 token and gives its TTL in seconds (1..21600). */
export const TOKEN_TTL_HEADER = 'x-aliyun-ecs-metadata-token-ttl-seconds';
/** Header that carries the IMDSv2 token on data requests. */
export const TOKEN_HEADER = 'x-aliyun-ecs-metadata-token';

/** Default lifetime of ECS instance-role credentials (6 h, as on ECS). */
const DEFAULT_ECS_LIFETIME = 21_600;
/** Default lead time of the service's rotation (assumption; see EmulatorEcsOptions). */
const DEFAULT_ECS_ROTATE_BEFORE = 3_600;
const DEFAULT_URI_LIFETIME = 3_600;
const MAX_TOKEN_TTL = 21_600;
/** The session name of issued instance credentials, like ECS's (an instance id). */
const INSTANCE_ID = 'i-emulator0000000000';

/** What a request to a vending endpoint is, for the request log, `callCount` and faults. */
export type VendingRoute = {
  /** `MetadataToken`, `MetadataRole`, `MetadataCredentials`, `Metadata` (other IMDS paths) or `CredentialsUri`. */
  action: string;
  kind: 'metadata' | 'uri';
  /** For `MetadataCredentials`: the role name in the path (decoded). */
  roleName?: string;
};

/** An answer of a vending endpoint. */
export type VendingAnswer = {
  status: number;
  contentType: string;
  text: string;
  /** An error code for the request log; undefined on success. */
  code: string | undefined;
};

/** Credentials issued by the emulator for a vending endpoint. */
export type IssuedCredentials = {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
  /** Epoch ms, emulator clock. */
  expiresAt: number;
  issuedAt: number;
};

/** What the vending service needs from the emulator. */
export type VendingDeps = {
  ecs: EmulatorEcsOptions | undefined;
  credentialsUri: EmulatorCredentialsUriOptions | undefined;
  timeScale: number;
  /** Issues STS credentials of `roleName` lasting `durationSeconds` (unscaled), as AssumeRole would. */
  issue: (roleName: string, durationSeconds: number, sessionName: string, now: number) => IssuedCredentials;
};

/**
 * Classifies a request: a vending route, or undefined for the OpenAPI (RPC) endpoints.
 * IMDS paths are everything under `/latest/`; the credentials URI is an exact path.
 */
export function routeVending(rawUrl: string, credentialsUriPath: string): VendingRoute | undefined {
  const q = rawUrl.indexOf('?');
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  if (path === credentialsUriPath) return { action: 'CredentialsUri', kind: 'uri' };
  if (path !== '/latest' && !path.startsWith('/latest/')) return undefined;
  if (path === METADATA_TOKEN_PATH) return { action: 'MetadataToken', kind: 'metadata' };
  if (path === METADATA_CREDENTIALS_PATH || path === METADATA_CREDENTIALS_PATH.slice(0, -1)) {
    return { action: 'MetadataRole', kind: 'metadata' };
  }
  if (path.startsWith(METADATA_CREDENTIALS_PATH)) {
    let roleName: string;
    try {
      roleName = decodeURIComponent(path.slice(METADATA_CREDENTIALS_PATH.length));
    } catch {
      roleName = path.slice(METADATA_CREDENTIALS_PATH.length);
    }
    return { action: 'MetadataCredentials', kind: 'metadata', roleName };
  }
  return { action: 'Metadata', kind: 'metadata' };
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** An nginx-style HTML error page, as the metadata service answers errors. */
export function statusPage(status: number): string {
  const title = `${status} ${STATUS_TEXT[status] ?? 'Error'}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(',') : value;
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The answer to an injected error fault on a vending route: an HTML page for IMDS, a JSON
 * `{Code, Message}` for the credentials URI.
 */
export function faultAnswer(route: VendingRoute, status: number, code: string, message: string): VendingAnswer {
  if (route.kind === 'uri') {
    return { status, contentType: 'application/json;charset=utf-8', text: JSON.stringify({ Code: code, Message: message }), code };
  }
  return { status, contentType: 'text/html', text: statusPage(status), code };
}

/** Validates the `ecs` and `credentialsUri` options; returns a problem description or undefined. */
export function vendingOptionsProblem(
  ecs: EmulatorEcsOptions | undefined,
  uri: EmulatorCredentialsUriOptions | undefined,
): string | undefined {
  const roleRe = /^[A-Za-z0-9.-]{1,64}$/;
  if (ecs !== undefined) {
    if (ecs.roleName !== undefined && !roleRe.test(ecs.roleName)) return `ecs.roleName ${JSON.stringify(ecs.roleName)} is not a role name`;
    const lifetime = ecs.lifetimeSeconds ?? DEFAULT_ECS_LIFETIME;
    if (!(Number.isFinite(lifetime) && lifetime > 0)) return 'ecs.lifetimeSeconds must be a positive number';
    const before = ecs.rotateBeforeSeconds ?? Math.min(DEFAULT_ECS_ROTATE_BEFORE, lifetime / 2);
    if (!(Number.isFinite(before) && before >= 0 && before < lifetime)) {
      return 'ecs.rotateBeforeSeconds must be >= 0 and less than ecs.lifetimeSeconds';
    }
  }
  if (uri !== undefined) {
    if (typeof uri.roleName !== 'string' || !roleRe.test(uri.roleName)) return `credentialsUri.roleName ${JSON.stringify(uri.roleName)} is not a role name`;
    const path = uri.path ?? DEFAULT_CREDENTIALS_URI_PATH;
    if (!/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(path) || path === '/' || path === '/latest' || path.startsWith('/latest/')) {
      return `credentialsUri.path ${JSON.stringify(path)} must be an absolute path other than "/" and outside /latest/`;
    }
    const lifetime = uri.lifetimeSeconds ?? DEFAULT_URI_LIFETIME;
    if (!(Number.isFinite(lifetime) && lifetime > 0)) return 'credentialsUri.lifetimeSeconds must be a positive number';
    const h = uri.requireHeader;
    if (h !== undefined && (typeof h.name !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(h.name) || typeof h.value !== 'string')) {
      return 'credentialsUri.requireHeader needs a header name and a string value';
    }
  }
  return undefined;
}

/**
 * The state behind the vending endpoints: IMDSv2 tokens, the instance role's current
 * credentials and their rotation.
 */
export function createVendingService(deps: VendingDeps): {
  answer(route: VendingRoute, method: string, headers: IncomingHttpHeaders, now: number): VendingAnswer;
  /** Invalidates every IMDSv2 token issued so far; returns how many were valid. */
  revokeTokens(now: number): number;
  /** Makes the next IMDS credentials request issue new credentials. */
  rotate(): void;
  /** Renames the instance's role (as a detach and attach would): discovery and credentials follow the new name. */
  renameRole(name: string): void;
  /** For IMDS data routes: how the request carries the token (recorded even when a fault answers). */
  tokenStateOf(route: VendingRoute, headers: IncomingHttpHeaders, now: number): MetadataTokenState | undefined;
  /** The path of the credentials URI. */
  readonly credentialsUriPath: string;
} {
  const { ecs, credentialsUri, timeScale } = deps;
  const tokens = new Map<string, number>();
  let current: { credentials: IssuedCredentials; rotateAt: number } | undefined;
  // The attached role; renameRole changes it without touching the caller's options object.
  let instanceRole = ecs?.roleName;
  const ecsLifetime = ecs?.lifetimeSeconds ?? DEFAULT_ECS_LIFETIME;
  const ecsRotateBefore = ecs?.rotateBeforeSeconds ?? Math.min(DEFAULT_ECS_ROTATE_BEFORE, ecsLifetime / 2);
  const credentialsUriPath = credentialsUri?.path ?? DEFAULT_CREDENTIALS_URI_PATH;

  const text = (status: number, body: string, code?: string): VendingAnswer => ({
    status,
    contentType: 'text/plain;charset=utf-8',
    text: body,
    code,
  });
  const page = (status: number, code: string): VendingAnswer => ({ status, contentType: 'text/html', text: statusPage(status), code });
  const json = (status: number, body: Record<string, unknown>, code?: string): VendingAnswer => ({
    status,
    contentType: 'application/json;charset=utf-8',
    text: JSON.stringify(body),
    code,
  });

  function tokenState(headers: IncomingHttpHeaders, now: number): MetadataTokenState {
    const token = header(headers, TOKEN_HEADER);
    if (token === undefined) return 'absent';
    const expiresAt = tokens.get(token);
    return expiresAt !== undefined && now < expiresAt ? 'valid' : 'invalid';
  }

  function issueToken(headers: IncomingHttpHeaders, now: number): VendingAnswer {
    const raw = header(headers, TOKEN_TTL_HEADER);
    if (raw === undefined) return page(400, 'MissingTokenTtl');
    const ttl = /^\d{1,6}$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
    if (!(ttl >= 1 && ttl <= MAX_TOKEN_TTL)) return page(400, 'InvalidTokenTtl');
    // Forget expired tokens now and then.
    for (const [t, exp] of tokens) if (exp <= now) tokens.delete(t);
    const token = randomBytes(42).toString('base64');
    // The TTL is what the client asked for, in real seconds (not scaled by timeScale).
    tokens.set(token, now + ttl * 1000);
    return text(200, token);
  }

  function instanceCredentials(now: number): IssuedCredentials {
    if (current === undefined || now >= current.rotateAt) {
      const credentials = deps.issue(instanceRole!, ecsLifetime, INSTANCE_ID, now);
      // The service hands the same credentials out until this point, then new ones.
      const rotateAt = Math.max(credentials.issuedAt, credentials.expiresAt - (ecsRotateBefore * 1000) / timeScale);
      current = { credentials, rotateAt };
    }
    return current.credentials;
  }

  function answerMetadata(route: VendingRoute, method: string, headers: IncomingHttpHeaders, now: number): VendingAnswer {
    if (ecs === undefined) return page(404, 'NotFound'); // not an ECS instance
    if (route.action === 'MetadataToken') {
      if (method !== 'PUT') return page(405, 'MethodNotAllowed');
      return issueToken(headers, now);
    }
    const state = tokenState(headers, now);
    if (method !== 'GET' && method !== 'HEAD') return page(405, 'MethodNotAllowed');
    if (state === 'invalid') return page(401, 'InvalidToken');
    if (state === 'absent' && ecs.requireToken === true) return page(403, 'TokenRequired');
    if (route.action === 'MetadataRole') {
      if (instanceRole === undefined) return page(404, 'NoRoleAttached');
      return text(200, instanceRole);
    }
    if (route.action === 'MetadataCredentials') {
      if (instanceRole === undefined || route.roleName !== instanceRole) return page(404, 'RoleNotFound');
      const c = instanceCredentials(now);
      return json(200, {
        AccessKeyId: c.accessKeyId,
        AccessKeySecret: c.accessKeySecret,
        Expiration: isoSeconds(c.expiresAt),
        SecurityToken: c.securityToken,
        LastUpdated: isoSeconds(c.issuedAt),
        Code: 'Success',
      });
    }
    return page(404, 'NotFound');
  }

  function answerUri(method: string, headers: IncomingHttpHeaders, now: number): VendingAnswer {
    if (credentialsUri === undefined) return json(404, { Code: 'NotFound', Message: 'No credentials URI is configured.' }, 'NotFound');
    if (method !== 'GET') return json(405, { Code: 'MethodNotAllowed', Message: 'Use GET.' }, 'MethodNotAllowed');
    const required = credentialsUri.requireHeader;
    if (required !== undefined && header(headers, required.name.toLowerCase()) !== required.value) {
      return json(401, { Code: 'Unauthorized', Message: `The ${required.name} header is missing or wrong.` }, 'Unauthorized');
    }
    const c = deps.issue(credentialsUri.roleName, credentialsUri.lifetimeSeconds ?? DEFAULT_URI_LIFETIME, 'credentials-uri', now);
    return json(200, {
      Code: 'Success',
      AccessKeyId: c.accessKeyId,
      AccessKeySecret: c.accessKeySecret,
      SecurityToken: c.securityToken,
      Expiration: isoSeconds(c.expiresAt),
    });
  }

  return {
    credentialsUriPath,
    answer(route, method, headers, now) {
      return route.kind === 'uri' ? answerUri(method, headers, now) : answerMetadata(route, method, headers, now);
    },
    revokeTokens(now) {
      let valid = 0;
      for (const exp of tokens.values()) if (exp > now) valid++;
      tokens.clear();
      return valid;
    },
    rotate() {
      current = undefined;
    },
    renameRole(name) {
      instanceRole = name;
      current = undefined;
    },
    tokenStateOf(route, headers, now) {
      return route.kind === 'metadata' && route.action !== 'MetadataToken' ? tokenState(headers, now) : undefined;
    },
  };
}
