/**
 * alicred/testing — helpers for testing code that uses alicred: a fake, countable source
 * of expiring credentials. The local RAM/STS emulator arrives here too.
 *
 * @packageDocumentation
 */
export { fakeCredentialSource } from './fake-source.js';
export type { FakeCredentialSource, FakeCredentialSourceOptions } from './fake-source.js';
export { startEmulator } from './emulator/index.js';
export type {
  Emulator,
  EmulatorOptions,
  EmulatorUser,
  EmulatorRole,
  EmulatorOidcProvider,
  EmulatorProduct,
  EmulatorFault,
  EmulatorRequestRecord,
  MintOidcTokenOptions,
  Policy,
  PolicyStatement,
  SignatureVersion,
} from './emulator/index.js';
export type { EmulatorEcsOptions, EmulatorCredentialsUriOptions, EmulatorIssuedCredentials, MetadataTokenState } from './emulator/index.js';
export type {
  EmulatorCloudSsoAssignment,
  EmulatorCloudSsoOptions,
  EmulatorOAuthOptions,
  MintCloudSsoTokenOptions,
  MintOAuthTokensOptions,
  MintedCloudSsoToken,
  MintedOAuthTokens,
} from './emulator/index.js';
