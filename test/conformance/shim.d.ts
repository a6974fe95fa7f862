// Types of shim.js, for test/conformance/node.test.ts (which checks the shim's matchers).
export declare function describe(name: string, fn: () => void): void;
export declare function it(name: string, fn: () => unknown, timeout?: number | { timeout?: number }): void;
export declare const test: typeof it;
export declare function declared(): string[];
export declare function run(options?: { filter?: string; timeoutMs?: number }): Promise<{ name: string; ok: boolean; ms: number; error?: string }[]>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export declare function expect(actual: unknown, message?: string): any;
