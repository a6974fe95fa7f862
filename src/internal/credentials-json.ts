/**
 * The field check every credentials answer shares (ECS metadata, a credentials URI, STS,
 * an External-mode helper's output): an AccessKey pair, a token and an expiration, under
 * the key names of each format. Each caller keeps its own envelope (`Code: "Success"`,
 * `mode`, `Credentials: {…}`) and its own messages; problems name keys, never values.
 *
 * Universal code.
 *
 * @internal
 */

/** The key names of the four fields in one format. */
export type CredentialKeys = {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken: string;
  readonly expiration: string;
};

/** STS, ECS metadata and credentials URI answers. */
export const PASCAL_CASE_KEYS: CredentialKeys = {
  accessKeyId: 'AccessKeyId',
  accessKeySecret: 'AccessKeySecret',
  securityToken: 'SecurityToken',
  expiration: 'Expiration',
};

/** The aliyun CLI's External-mode output. */
export const CLI_KEYS: CredentialKeys = {
  accessKeyId: 'access_key_id',
  accessKeySecret: 'access_key_secret',
  securityToken: 'sts_token',
  expiration: 'expiration',
};

/** What is wrong with one key: absent (or null, or blank), not a string, or not a date-time. */
export type FieldProblem = { readonly key: string; readonly problem: 'missing' | 'not-string' | 'not-a-date' };

/** How {@link checkCredentialsRecord} reads a record. */
export type CredentialsRecordRules = {
  keys: CredentialKeys;
  requireToken: boolean;
  requireExpiration: boolean;
  /** Epoch ms of an expiration text, or undefined when it is not a date-time. */
  parseTime: (text: string) => number | undefined;
};

/** The fields as written (not trimmed: callers decide), with the parsed expiration. */
export type CredentialsRecord = {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string | undefined;
  expiration: string | undefined;
  expiresAt: number | undefined;
};

/**
 * Checks the four fields of `record`: the pair always, the token and the expiration when
 * required or present. Problems come in field order; the expiration is parsed only when
 * every field is a string.
 */
export function checkCredentialsRecord(
  record: Readonly<Record<string, unknown>>,
  rules: CredentialsRecordRules,
): { value: CredentialsRecord; problems?: undefined } | { value?: undefined; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const read = (key: string, required: boolean): string | undefined => {
    const value = record[key];
    if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
      if (required) problems.push({ key, problem: 'missing' });
      return undefined;
    }
    if (typeof value !== 'string') {
      problems.push({ key, problem: 'not-string' });
      return undefined;
    }
    return value;
  };
  const { keys } = rules;
  const accessKeyId = read(keys.accessKeyId, true);
  const accessKeySecret = read(keys.accessKeySecret, true);
  const securityToken = read(keys.securityToken, rules.requireToken);
  const expiration = read(keys.expiration, rules.requireExpiration);
  if (problems.length > 0) return { problems };
  const expiresAt = expiration === undefined ? undefined : rules.parseTime(expiration);
  if (expiration !== undefined && expiresAt === undefined) return { problems: [{ key: keys.expiration, problem: 'not-a-date' }] };
  return { value: { accessKeyId: accessKeyId!, accessKeySecret: accessKeySecret!, securityToken, expiration, expiresAt } };
}
