// Types of server.mjs, for test/browser.test.ts (TypeScript does not read .mjs sources here).
import type { Logger } from 'alicred';
import type { Emulator } from 'alicred/testing';

export declare const BUCKET: string;
export declare const SESSIONS: Record<string, string>;

export type OssBrowserExample = {
  /** The page, with the vending endpoint, OSS endpoint, bucket and a default key in its query. */
  pageUrl: string;
  pageOrigin: string;
  vendUrl: string;
  ossEndpoint: string;
  bucket: string;
  emulator: Emulator;
  bundleInputs: string[];
  close(): Promise<void>;
};

export declare function startOssBrowserExample(options?: { logger?: Logger }): Promise<OssBrowserExample>;
