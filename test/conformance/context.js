// What a conformance suite needs from its host (test/conformance/host.ts builds it): where the
// emulator's STS and credentials URI answer, the RAM user and roles it knows, and the host's
// helper URL that mints OIDC tokens. Browsers and workerd cannot start the emulator, so the
// host (Node) starts it and hands this plain JSON object in before the cases run, as
// globalThis.__ALICRED_CONFORMANCE__.
//
// @typedef {{
//   runtime: 'node' | 'chromium' | 'workerd',
//   stsEndpoint: string,
//   credentialsUri: string,
//   credentialsUriHeader: { name: string, value: string },
//   oidcTokenUrl: string,
//   user: { accessKeyId: string, accessKeySecret: string },
//   roleArn: string,
//   untrustedRoleArn: string,
//   oidcRoleArn: string,
//   oidcProviderArn: string,
// }} ConformanceContext

/** The host's context; read inside a case (never at import: hosts set it after collecting). */
export function context() {
  const ctx = globalThis.__ALICRED_CONFORMANCE__;
  if (typeof ctx !== 'object' || ctx === null) {
    throw new Error('no conformance context: the host must set globalThis.__ALICRED_CONFORMANCE__ before running the cases');
  }
  return ctx;
}
