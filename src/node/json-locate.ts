/**
 * Positions in profile files: line and column of an offset, a strict JSON scanner that
 * records where each key is (for errors naming a line of `~/.aliyun/config.json`, whose
 * `JSON.parse` gives none), and `JSON.parse` with errors that never quote the text.
 *
 * @module
 */
import { ConfigError } from '../errors.js';

/** 1-based line and column of a 0-based offset in `text`. */
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/** The outcome of {@link scanJson}. */
export type JsonScan =
  | { ok: true; /** Offset of each object member's key and each array element, by JSON.stringify(path). */ at: Map<string, number> }
  | { ok: false; offset: number; reason: string };

/**
 * A strict JSON (RFC 8259) scanner that parses nothing but records where things are: the
 * offset of every object key and array element by path, or the offset of the first syntax
 * error with a description that never quotes the text (which may hold secrets). Used because
 * `JSON.parse` errors in Node 20 quote the text and do not always give a position.
 */
export function scanJson(text: string): JsonScan {
  const at = new Map<string, number>();
  const path: (string | number)[] = [];
  let pos = 0;
  class Fail {
    constructor(
      readonly offset: number,
      readonly reason: string,
    ) {}
  }
  const fail = (reason: string, offset = pos): never => {
    throw new Fail(offset, pos >= text.length ? `unexpected end of input (${reason})` : reason);
  };
  const ws = (): void => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) pos++;
      else break;
    }
  };
  const record = (): void => {
    at.set(JSON.stringify(path), pos);
  };
  /** After a member or an element: true when the container closes here, false when another follows. */
  const closes = (close: string, what: string): boolean => {
    ws();
    if (text[pos] === ',') {
      pos++;
      return false;
    }
    if (text[pos] === close) {
      pos++;
      return true;
    }
    return fail(`expected ',' or '${close}' after ${what}`);
  };
  const string = (): string => {
    const start = pos;
    if (text[pos] !== '"') fail('expected a string');
    pos++;
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        pos++;
        return JSON.parse(text.slice(start, pos)) as string;
      }
      if (c < 0x20) fail('control character inside a string');
      if (c === 0x5c) {
        const e = text[pos + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(pos + 2, pos + 6))) fail('invalid \\u escape');
          pos += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) pos += 2;
        else fail('invalid escape in a string');
      } else pos++;
    }
    return fail('unterminated string', start);
  };
  const value = (depth: number): void => {
    if (depth > 256) fail('nested too deeply');
    ws();
    const c = text[pos];
    if (c === '{') {
      pos++;
      ws();
      if (text[pos] === '}') {
        pos++;
        return;
      }
      for (;;) {
        ws();
        if (text[pos] !== '"') fail('expected a string (an object key)');
        const keyAt = pos;
        const key = string();
        path.push(key);
        at.set(JSON.stringify(path), keyAt);
        ws();
        if (text[pos] !== ':') fail("expected ':' after an object key");
        pos++;
        value(depth + 1);
        path.pop();
        if (closes('}', 'an object member')) return;
      }
    }
    if (c === '[') {
      pos++;
      ws();
      if (text[pos] === ']') {
        pos++;
        return;
      }
      for (let i = 0; ; i++) {
        path.push(i);
        ws();
        record();
        value(depth + 1);
        path.pop();
        if (closes(']', 'an array element')) return;
      }
    }
    if (c === '"') {
      string();
      return;
    }
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return;
      }
    }
    const number = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(pos, pos + 400));
    if (number && number[0] !== '' && number[0] !== '-') {
      pos += number[0].length;
      return;
    }
    fail('expected a value (object, array, string, number, true, false or null)');
  };
  try {
    value(0);
    ws();
    if (pos < text.length) fail('unexpected content after the JSON value');
    return { ok: true, at };
  } catch (error) {
    if (error instanceof Fail) return { ok: false, offset: error.offset, reason: error.reason };
    throw error;
  }
}

/**
 * `JSON.parse`, with errors as a {@link ConfigError} naming the file, line and column (never
 * quoting the text).
 */
export function parseJsonFile(text: string, file: string, provider: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const scan = scanJson(text);
    const offset = scan.ok ? 0 : scan.offset;
    const reason = scan.ok ? 'invalid JSON' : scan.reason;
    const { line, column } = lineColumnAt(text, offset);
    // No `cause`: the JSON.parse message quotes the text, which may hold a secret.
    throw new ConfigError(`${provider}: ${file} is not valid JSON: line ${line}, column ${column}: ${reason}`, {
      provider,
      file,
      line,
    });
  }
}
