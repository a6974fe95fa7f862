/**
 * STS AssumeRoleWithOIDC: anonymous (the OIDC token is the proof), so no signing code. The
 * token and the other parameters go in a form body, never in the URL.
 *
 * @internal
 */
import {
  ASSUME_ROLE_WITH_OIDC_SOURCE,
  STS_API_VERSION,
  type AssumeRoleWithOidcResult,
  type StsCallOptions,
  type StsClient,
  type StsClientOptions,
} from './api.js';
import { stsTimestamp } from './time.js';
import {
  compact,
  createStsTransport,
  credentialsResult,
  DEFAULT_DURATION_SECONDS,
  formEncode,
  isRecord,
  optionalString,
  sendStsRequest,
  withQuery,
  type PreparedRequest,
  type StsTransport,
} from './transport.js';
import { validateAssumeRoleWithOidcParams, type AssumeRoleWithOidcParams } from './validate.js';

/** AssumeRoleWithOIDC through `t`, the whole answer with `oidcTokenInfo`. Parameters are validated first. */
export async function assumeRoleWithOidcWith(
  t: StsTransport,
  params: AssumeRoleWithOidcParams,
  callOptions: StsCallOptions = {},
): Promise<AssumeRoleWithOidcResult> {
  validateAssumeRoleWithOidcParams(params);
  const action = 'AssumeRoleWithOIDC';
  const query = {
    Action: action,
    Format: 'JSON',
    Version: STS_API_VERSION,
    Timestamp: stsTimestamp(t.clock()),
  };
  const form = compact({
    OIDCProviderArn: params.oidcProviderArn,
    OIDCToken: params.oidcToken,
    RoleArn: params.roleArn,
    RoleSessionName: params.roleSessionName,
    DurationSeconds: params.durationSeconds,
    Policy: params.policy,
  });
  const request: PreparedRequest = {
    action,
    url: withQuery(t.endpoint.url, query),
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'user-agent': t.userAgent },
    body: formEncode(form),
    secrets: [params.oidcToken],
    stringToSign: undefined,
  };
  const answer = await sendStsRequest(t, request, callOptions.signal);
  const result = credentialsResult(t, action, ASSUME_ROLE_WITH_OIDC_SOURCE, answer, params.durationSeconds ?? DEFAULT_DURATION_SECONDS);
  const info = answer.body.OIDCTokenInfo;
  return {
    ...result,
    oidcTokenInfo: isRecord(info)
      ? {
          issuer: optionalString(info.Issuer),
          subject: optionalString(info.Subject),
          clientIds: optionalString(info.ClientIds),
          expirationTime: optionalString(info.ExpirationTime),
          issuanceTime: optionalString(info.IssuanceTime),
        }
      : undefined,
  };
}

/** The part of an {@link StsClient} an OIDC provider calls. */
export type AssumeRoleWithOidcClient = Pick<StsClient, 'endpoint' | 'assumeRoleWithOidc'>;

/** The AssumeRoleWithOIDC methods of a client over `t`: the detailed answer, and its credentials alone. */
export function assumeRoleWithOidcMethods(t: StsTransport): Pick<StsClient, 'assumeRoleWithOidc' | 'assumeRoleWithOidcDetailed'> {
  return {
    assumeRoleWithOidcDetailed: (params, callOptions) => assumeRoleWithOidcWith(t, params, callOptions),
    async assumeRoleWithOidc(params, callOptions) {
      return (await assumeRoleWithOidcWith(t, params, callOptions)).credentials;
    },
  };
}

/** A client that can only AssumeRoleWithOIDC: what `fromOidc` makes, so its bundle carries no signing. */
export function createAssumeRoleWithOidcClient(options: StsClientOptions): AssumeRoleWithOidcClient {
  const t = createStsTransport(options);
  return Object.freeze({ endpoint: t.endpoint.url, ...assumeRoleWithOidcMethods(t) });
}
