/**
 * alicred/node — Node-only credential sources (profile files, ECS metadata, external
 * processes) and the default chain. Re-exports the universal API, so one import suffices.
 *
 * @packageDocumentation
 */
export * from '../index.js';
export { fromProcess } from './process.js';
export type { FromProcessOptions } from './process.js';
export { fromOidcTokenFile } from './oidc-file.js';
export type { FromOidcTokenFileOptions } from './oidc-file.js';
export type { NodeSourceOptions } from './options.js';
