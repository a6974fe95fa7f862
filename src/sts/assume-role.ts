/**
 * STS AssumeRole: a role's temporary credentials, signed with the caller's AccessKey (or
 * STS credentials, their token sent along).
 *
 * @internal
 */
import type { Credentials } from '../credentials.js';
import { ASSUME_ROLE_SOURCE, assumeRoleWireParams, type AssumeRoleResult, type StsCallOptions, type StsClient, type StsClientOptions } from './api.js';
import { compact, createStsTransport, credentialsResult, DEFAULT_DURATION_SECONDS, sendStsRequest, signedRequest, type StsTransport } from './transport.js';
import { validateAssumeRoleParams, type AssumeRoleParams } from './validate.js';

/** AssumeRole through `t`, the whole answer. Parameters are validated first (ConfigError). */
export async function assumeRoleWith(
  t: StsTransport,
  source: Credentials,
  params: AssumeRoleParams,
  callOptions: StsCallOptions = {},
): Promise<AssumeRoleResult> {
  validateAssumeRoleParams(params);
  const request = await signedRequest(t, 'AssumeRole', source, compact(assumeRoleWireParams(params)));
  const answer = await sendStsRequest(t, request, callOptions.signal);
  return credentialsResult(t, 'AssumeRole', ASSUME_ROLE_SOURCE, answer, params.durationSeconds ?? DEFAULT_DURATION_SECONDS);
}

/** The part of an {@link StsClient} a role provider calls. */
export type AssumeRoleClient = Pick<StsClient, 'endpoint' | 'assumeRole'>;

/** The AssumeRole methods of a client over `t`: the detailed answer, and its credentials alone. */
export function assumeRoleMethods(t: StsTransport): Pick<StsClient, 'assumeRole' | 'assumeRoleDetailed'> {
  return {
    assumeRoleDetailed: (source, params, callOptions) => assumeRoleWith(t, source, params, callOptions),
    async assumeRole(source, params, callOptions) {
      return (await assumeRoleWith(t, source, params, callOptions)).credentials;
    },
  };
}

/** A client that can only AssumeRole: what `fromRamRole` makes, so its bundle carries no other operation. */
export function createAssumeRoleClient(options: StsClientOptions): AssumeRoleClient {
  const t = createStsTransport(options);
  return Object.freeze({ endpoint: t.endpoint.url, ...assumeRoleMethods(t) });
}
