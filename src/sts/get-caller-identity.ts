/**
 * STS GetCallerIdentity: who a set of credentials is. Needs no permission.
 *
 * @internal
 */
import type { Credentials } from '../credentials.js';
import type { CallerIdentity, StsCallOptions } from './api.js';
import { invalidAnswer, optionalString, sendStsRequest, signedRequest, type StsTransport } from './transport.js';

/** GetCallerIdentity through `t`, signed with `source`. */
export async function getCallerIdentityWith(t: StsTransport, source: Credentials, callOptions: StsCallOptions = {}): Promise<CallerIdentity> {
  const action = 'GetCallerIdentity';
  const request = await signedRequest(t, action, source, {});
  const { body, answer, requestId } = await sendStsRequest(t, request, callOptions.signal);
  for (const field of ['AccountId', 'Arn'] as const) {
    if (optionalString(body[field]) === undefined) {
      throw invalidAnswer(action, answer, requestId, `${field} is missing or empty`);
    }
  }
  return {
    accountId: String(body.AccountId),
    userId: optionalString(body.UserId),
    arn: String(body.Arn),
    identityType: optionalString(body.IdentityType),
    principalId: optionalString(body.PrincipalId),
    roleId: optionalString(body.RoleId),
    requestId,
  };
}
