/**
 * alicred — credential providers for Alibaba Cloud (universal entry).
 *
 * Everything here runs in Node.js, browsers and edge runtimes: it uses fetch and WebCrypto
 * and no Node built-in. Node-only sources live in `alicred/node`.
 *
 * @packageDocumentation
 */
export { createCredentials, toPlainCredentials, isCredentials } from './credentials.js';
export type { Credentials, CredentialsInit } from './credentials.js';
export type { CredentialProvider, ProviderCallOptions, Logger } from './types.js';
export {
  CredentialsError,
  CredentialsProviderError,
  ConfigError,
  StsError,
  CredentialsChainError,
  NetworkOrCorsError,
  isCredentialsError,
} from './errors.js';
export type {
  CredentialsErrorCode,
  CredentialsErrorOptions,
  CredentialsProviderErrorOptions,
  ConfigErrorOptions,
  StsErrorOptions,
  NetworkOrCorsErrorOptions,
  ChainAttempt,
} from './errors.js';
export { refreshing, isRetryableError, defaultAdvisoryWindow, defaultMandatoryWindow } from './refresh.js';
export type { RefreshingProvider, RefreshOptions, RefreshEvent, WindowSize } from './refresh.js';
export { chain, createChain } from './chain.js';
export type { ChainProvider, ChainOptions } from './chain.js';
export { createStsCache, defaultStsCache, stsCacheKey } from './cache.js';
export type { StsCache, StsCacheOptions, StsCacheKeyInput, StsCacheGetOptions } from './cache.js';
export type { StsCacheStore, StsCacheEncryptionKey } from './cache-store.js';
export { fromStatic } from './providers/static.js';
export type { StaticCredentialsInit } from './providers/static.js';
export { fromEnv } from './providers/env.js';
export type { EnvLike } from './providers/env.js';
export { fromRamRole } from './providers/ram-role.js';
export type { FromRamRoleOptions } from './providers/ram-role.js';
export { fromOidc } from './providers/oidc.js';
export type { FromOidcOptions, OidcTokenSource } from './providers/oidc.js';
export { createStsClient, assumeRoleWireParams, STS_API_VERSION, ASSUME_ROLE_SOURCE, ASSUME_ROLE_WITH_OIDC_SOURCE } from './sts/client.js';
export type {
  StsClient,
  StsClientOptions,
  StsCallOptions,
  AssumeRoleParams,
  AssumeRoleWithOidcParams,
  AssumeRoleResult,
  AssumeRoleWithOidcResult,
  AssumedRoleUser,
  OidcTokenInfo,
  CallerIdentity,
} from './sts/client.js';
export { resolveStsEndpoint, isLoopbackHost } from './sts/endpoints.js';
export type { StsEndpointOptions, ResolvedStsEndpoint, StsEndpointSource } from './sts/endpoints.js';
export { validateAssumeRoleParams, validateAssumeRoleWithOidcParams } from './sts/validate.js';
export { toStsError, isRetryableStsCode } from './sts/errors.js';
export type { StsFailure } from './sts/errors.js';
export { fromEcsMetadata } from './providers/ecs-metadata.js';
export type { FromEcsMetadataOptions } from './providers/ecs-metadata.js';
export { fromCredentialsUri } from './providers/credentials-uri.js';
export type { FromCredentialsUriOptions, CredentialsUriHeaders } from './providers/credentials-uri.js';
export { createVendingHandler } from './vending.js';
export type { VendingHandlerOptions, VendingHandler, VendingCaller, VendingPolicy } from './vending.js';
