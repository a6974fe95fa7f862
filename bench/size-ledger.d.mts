/** Types of bench/size-ledger.mjs, for test/size.test.ts. */
export type LedgerCut = { file: string; fn: string; body: string };
export type LedgerPromise = { name: string; cut: LedgerCut[] };
export type LedgerRow = { promise: string; alone: number; left: number };
export type LedgerBundle = { name: string; entry: string; goal: number; whole: number; rows: LedgerRow[] };
export const PROMISES: LedgerPromise[];
export const LEDGER_ENTRIES: { name: string; entry: string; goal: number }[];
export function bundleWithout(entry: string, promises: LedgerPromise[]): Promise<{ gzip: number }>;
export function sizeLedger(): Promise<LedgerBundle[]>;
export function ledgerTable(bundles: LedgerBundle[]): string;
export function ledgerSummary(bundles: LedgerBundle[]): string;
