/**
 * Reading a small text file that a user (or an attacker who can write an env variable)
 * points us at: a profile file, an OIDC token file. Such a path can name a FIFO that never
 * delivers, `/dev/zero`, or a multi-gigabyte file; all are refused or cut off instead of
 * hanging the process or exhausting its memory.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** Profile files and tokens are a few KiB; 1 MiB is far beyond any real one. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/** Why a file could not be read; `code` is the errno code, or `NotAFile` / `TooLarge`. */
export class FileReadProblem extends Error {
  override name = 'FileReadProblem';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The UTF-8 text of a regular file of at most `maxBytes`. Throws a {@link FileReadProblem}
 * for anything else: missing (`ENOENT`), a folder, a device or FIFO (`NotAFile`), too large
 * (`TooLarge`, also when the file grows while it is read).
 *
 * @internal
 */
export async function readSmallTextFile(path: string, maxBytes = MAX_CONFIG_FILE_BYTES): Promise<string> {
  let handle;
  try {
    // O_NONBLOCK: opening a FIFO with no writer must not block (it is refused below).
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const code = typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : 'EIO';
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder' : `cannot be read (${code})`;
    throw new FileReadProblem(code, why);
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw new FileReadProblem('EISDIR', 'is a folder');
    if (!info.isFile()) throw new FileReadProblem('NotAFile', 'is not a regular file');
    if (info.size > maxBytes) throw new FileReadProblem('TooLarge', `is larger than ${maxBytes} bytes`);
    let buffer = Buffer.alloc(Math.min(maxBytes + 1, info.size + 1));
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        // The file grew while being read: keep reading, up to the cap.
        const bigger = Buffer.alloc(Math.min(maxBytes + 1, buffer.length * 2 + 4096));
        buffer.copy(bigger, 0, 0, length);
        buffer = bigger;
      }
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) throw new FileReadProblem('TooLarge', `is larger than ${maxBytes} bytes`);
    }
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    await handle.close().catch(() => {});
  }
}
