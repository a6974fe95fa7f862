/**
 * alicred/node — Node-only credential sources (profile files, ECS metadata, external
 * processes) and the default chain. Re-exports the universal API, so one import suffices.
 *
 * @packageDocumentation
 */
export * from '../index.js';
