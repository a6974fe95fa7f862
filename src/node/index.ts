/**
 * alicred/node — Node-only credential sources (profile files, OIDC token file, external
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
export { defaultProvider } from './default.js';
export type { DefaultProviderOptions } from './default.js';
export { fromIniProfile } from './ini-profile.js';
export type { FromIniProfileOptions } from './ini-profile.js';
export { fromCliProfile } from './cli-config.js';
export type { FromCliProfileOptions } from './cli-config.js';
export { toNodeListener } from './vending-listener.js';
export type { NodeListenerOptions, NodeRequestListener } from './vending-listener.js';
export { fileStsStore } from './file-store.js';
export type { FileStsStoreOptions } from './file-store.js';
