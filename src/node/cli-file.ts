/**
 * The aliyun CLI's `~/.aliyun/config.json` as data: its shape checked, profiles by name, and
 * the line of any key (JSON.parse gives none; a scan of the text finds them, on error paths
 * only).
 *
 * @module
 */
import { ConfigError } from '../errors.js';
import { trimmedString } from '../internal/env.js';
import { lineColumnAt, parseJsonFile, scanJson } from './json-locate.js';

/** One profile object, as written. */
export type CliProfile = Record<string, unknown>;

/** A parsed config file. */
export type CliFile = {
  readonly text: string;
  readonly current: string | undefined;
  /** Profiles by name (the first of a name wins, as in the CLI), with their index. */
  readonly byName: Map<string, { index: number; profile: CliProfile }>;
  /** Key offsets, computed on the first error only. */
  positions?: Map<string, number>;
};

/** Parses the file; a wrong shape is a ConfigError naming the line, never quoting values. */
export function parseCliFile(text: string, file: string, provider: string): CliFile {
  const data = parseJsonFile(text, file, provider);
  const shapeError = (what: string, path: (string | number)[], field: string): ConfigError => {
    const scan = scanJson(text);
    const offset = scan.ok ? scan.at.get(JSON.stringify(path)) : undefined;
    const line = offset === undefined ? 1 : lineColumnAt(text, offset).line;
    return new ConfigError(`${provider}: ${file}: ${what} (line ${line})`, { provider, file, line, field });
  };
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw shapeError('the top level must be an object {"current": …, "profiles": […]}', [], 'profiles');
  }
  const top = data as Record<string, unknown>;
  const current = top.current;
  if (current !== undefined && current !== null && typeof current !== 'string') throw shapeError('"current" must be a string', ['current'], 'current');
  const profiles = top.profiles ?? [];
  if (!Array.isArray(profiles)) throw shapeError('"profiles" must be an array', ['profiles'], 'profiles');
  const byName = new Map<string, { index: number; profile: CliProfile }>();
  profiles.forEach((profile: unknown, index) => {
    if (typeof profile !== 'object' || profile === null || Array.isArray(profile)) {
      throw shapeError(`profiles[${index}] must be an object`, ['profiles', index], `profiles[${index}]`);
    }
    const name = (profile as CliProfile).name;
    if (typeof name !== 'string' || name === '') {
      throw shapeError(`profiles[${index}] has no "name"`, ['profiles', index], 'name');
    }
    if (!byName.has(name)) byName.set(name, { index, profile: profile as CliProfile });
  });
  return { text, current: trimmedString(current), byName };
}

/** Line of a JSON path in the file (computed once per parsed file, on error paths only). */
export function lineOf(file: CliFile, path: (string | number)[]): number | undefined {
  if (!file.positions) {
    const scan = scanJson(file.text);
    file.positions = scan.ok ? scan.at : new Map();
  }
  const offset = file.positions.get(JSON.stringify(path));
  return offset === undefined ? undefined : lineColumnAt(file.text, offset).line;
}
