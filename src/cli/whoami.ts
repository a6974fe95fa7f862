/**
 * `alicred whoami`: which credentials the default chain (or a profile, or a role on top)
 * resolves to, and who STS says they are (GetCallerIdentity). Never prints a secret.
 *
 * @internal
 */
import { createStsClient } from '../sts/client.js';
import { IDENTITY_OPTIONS, parseCommandArgs, stringOption } from './args.js';
import { EXIT, fromNow, isoSeconds, type CommandContext } from './output.js';
import { commandProvider, describeSource } from './provider.js';

export const WHOAMI_HELP = `Usage: alicred whoami [--profile P] [--role-arn ARN]

Resolves credentials as defaultProvider() does (with --profile P, as
defaultProvider({ profile: P }) does; with --role-arn, assumes that role on top with
AssumeRole) and asks STS GetCallerIdentity who they are. Prints the source that answered,
the identity's ARN, the AccessKey id and when the credentials expire. Never a secret.

The STS endpoint: ALIBABA_CLOUD_STS_ENDPOINT, else ALIBABA_CLOUD_STS_REGION (and
ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED), else sts.aliyuncs.com.

Exit status: 0 ok, 1 no usable credentials (or STS refused them), 2 wrong usage.`;

export async function whoamiCommand(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const values = parseCommandArgs(argv, IDENTITY_OPTIONS);
  const { output } = ctx;
  if (values.help) {
    output.out(WHOAMI_HELP);
    return EXIT.ok;
  }
  const roleArn = stringOption(values, 'role-arn');
  const provider = commandProvider({ profile: stringOption(values, 'profile'), roleArn, env: ctx.env, logger: ctx.logger });
  try {
    const sts = createStsClient({ env: ctx.env, logger: ctx.logger });
    const credentials = await output.progress('resolving credentials', provider());
    const identity = await output.progress(`asking STS (${sts.endpoint}) who these credentials are`, sts.getCallerIdentity(credentials));
    const expiration = credentials.expiration;
    const rows: [string, string][] = [
      ['source', describeSource(credentials, provider.link(), roleArn)],
      ['identity', identity.arn],
      ['account', identity.accountId],
      ['type', identity.identityType ?? 'unknown'],
      ['access key', credentials.accessKeyId],
      ['expires', expiration === undefined ? 'never (a long-lived AccessKey)' : `${isoSeconds(expiration)} (${fromNow(expiration)})`],
    ];
    for (const [name, value] of rows) output.out(`${output.paint('bold', name.padEnd(11))} ${value}`);
    return EXIT.ok;
  } finally {
    provider.close();
  }
}
