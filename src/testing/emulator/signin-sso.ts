/**
 * The emulator's CloudSSO user portal: `POST /cloud-credentials` turns a CloudSSO access
 * token (minted by the test) into STS credentials of an assigned role. The wire format and
 * the error codes chosen where the real ones are unknown are documented on
 * `EmulatorCloudSsoOptions` (signin-types.ts).
 *
 * @internal
 */
import { isoSeconds } from './account.js';
import type { ProductAnswer, ProductContext, ProductRequest, ProductRoute, ProductService } from './product.js';
import { fail, newRequestId } from './respond.js';
import { SIGNIN_DEFAULTS, bearerToken, checkSeconds, expiryOf, jsonAnswer, newOpaqueToken } from './signin.js';
import type { MintCloudSsoTokenOptions, MintedCloudSsoToken } from './signin-types.js';

/** Path of the credentials endpoint on the portal host. */
export const CLOUD_CREDENTIALS_PATH = '/cloud-credentials';
/** Path of `emu.cloudSsoSignInUrl` (only its origin is used by clients). */
export const CLOUD_SSO_SIGN_IN_PATH = '/device/login';
/** Action of `/cloud-credentials` requests in the log and for faults. */
export const CLOUD_SSO_ACTION = 'CloudSsoCredentials';
/** Session name of the STS credentials `/cloud-credentials` issues. */
const SESSION_NAME = 'cloudsso-user';

/** A minted access token: epoch ms (whole second) it expires at, and whether it was revoked. */
type TokenState = { expiresAt: number; revoked: boolean };

/** The portal: its route, and the test's handles on its tokens. */
export type CloudSsoService = ProductService & {
  /** See `Emulator.mintCloudSsoToken`. */
  mint(options?: MintCloudSsoTokenOptions): MintedCloudSsoToken;
  /** See `Emulator.revokeCloudSsoToken`. */
  revoke(token: string): boolean;
};

function readBody(body: Buffer): { accountId: string; accessConfigurationId: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    fail(400, 'InvalidParameter', 'The request body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) fail(400, 'InvalidParameter', 'The request body is not a JSON object.');
  const { AccountId: accountId, AccessConfigurationId: accessConfigurationId } = parsed as Record<string, unknown>;
  for (const [name, value] of [['AccountId', accountId], ['AccessConfigurationId', accessConfigurationId]] as const) {
    if (typeof value !== 'string' || value === '') fail(400, 'InvalidParameter', `${name} must be a non-empty string.`);
  }
  return { accountId: accountId as string, accessConfigurationId: accessConfigurationId as string };
}

/** Creates the CloudSSO portal of `resolved.cloudSso` (it answers, and refuses every token, without one). */
export function createCloudSsoService({ account, resolved }: ProductContext): CloudSsoService {
  const tokens = new Map<string, TokenState>();

  function route(request: ProductRequest): ProductRoute | undefined {
    if (request.path !== CLOUD_CREDENTIALS_PATH) return undefined;
    const requestId = newRequestId();
    const error = (status: number, code: string, message: string): ProductAnswer =>
      jsonAnswer(status, { ErrorCode: code, ErrorMessage: message, RequestId: requestId }, code, requestId, status === 405 ? { Allow: 'POST' } : {});

    function answer(): ProductAnswer {
      const now = resolved.clock();
      if (request.method !== 'POST') fail(405, 'MethodNotAllowed', `${request.method} is not allowed on ${CLOUD_CREDENTIALS_PATH}; use POST.`);
      const token = bearerToken(request.headers);
      if (token === undefined) fail(401, 'MissingAccessToken', 'The request carries no "Authorization: Bearer <access token>" header.');
      const state = tokens.get(token);
      if (state === undefined || state.revoked) fail(401, 'InvalidAccessToken', 'The access token is invalid.');
      if (now >= state.expiresAt) fail(401, 'AccessTokenExpired', 'The access token is expired.');
      const wanted = readBody(request.body);
      const assignment = resolved.cloudSso?.assignments.find(
        (a) => a.accountId === wanted.accountId && a.accessConfigurationId === wanted.accessConfigurationId,
      );
      const role = assignment && account.roles.get(assignment.role.toLowerCase());
      if (role === undefined) fail(403, 'Forbidden', 'Access Denied');
      const session = account.issue(role, SESSION_NAME, resolved.cloudSso!.durationSeconds, {}, now);
      const body = {
        CloudCredential: {
          AccessKeyId: session.accessKeyId,
          AccessKeySecret: session.accessKeySecret,
          SecurityToken: session.securityToken,
          Expiration: isoSeconds(session.expiresAt),
        },
        RequestId: requestId,
      };
      return jsonAnswer(200, body, undefined, requestId);
    }

    return { action: CLOUD_SSO_ACTION, accessKeyId: undefined, signatureVersion: 'anonymous', answer, error };
  }

  function mint(options: MintCloudSsoTokenOptions = {}): MintedCloudSsoToken {
    if (resolved.cloudSso === undefined) throw new TypeError('mintCloudSsoToken: the emulator was started without the `cloudSso` option');
    checkSeconds('mintCloudSsoToken', 'expiresInSeconds', options.expiresInSeconds);
    const expiresAt = expiryOf(resolved.clock(), options.expiresInSeconds ?? SIGNIN_DEFAULTS.cloudSsoTokenSeconds, resolved.timeScale);
    let accessToken: string;
    do accessToken = newOpaqueToken();
    while (tokens.has(accessToken));
    tokens.set(accessToken, { expiresAt, revoked: false });
    return { accessToken, expiresAt: expiresAt / 1000 };
  }

  function revoke(token: string): boolean {
    const state = tokens.get(token);
    if (state === undefined || state.revoked) return false;
    return (state.revoked = true);
  }

  return { route, mint, revoke };
}
