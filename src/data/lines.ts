/**
 * Reads a text file line by line without holding it whole (MNLI's train.tsv is 410 MB, close to V8's
 * string limit). Lines end at \n, \r\n or a lone \r, like Python's universal newlines (which the official
 * GLUE loaders read through); a UTF-8 byte order mark at the start is dropped, as `utf-8-sig` does.
 */
import { open } from 'node:fs/promises';
import { HealbertError } from '../errors.js';

const CHUNK_BYTES = 8 << 20;

/** Yields [line number (1-based), text] for every line, a last line without a newline included. */
export async function* readLines(path: string): AsyncGenerator<[number, string]> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new HealbertError('ERR_IO', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    let carry = '';
    let lineNumber = 0;
    let pendingCr = false;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, null);
      let text: string;
      try {
        text = decoder.decode(buffer.subarray(0, bytesRead), { stream: bytesRead > 0 });
      } catch (error) {
        throw new HealbertError('ERR_DATA', `${path}:${lineNumber + 1}: not valid UTF-8`, { cause: error });
      }
      if (pendingCr && text.startsWith('\n')) text = text.slice(1);
      pendingCr = false;
      const data = carry + text;
      let start = 0;
      for (let i = 0; i < data.length; i++) {
        const c = data.charCodeAt(i);
        if (c !== 0x0a && c !== 0x0d) continue;
        lineNumber++;
        yield [lineNumber, data.slice(start, i)];
        if (c === 0x0d) {
          if (i + 1 < data.length) {
            if (data.charCodeAt(i + 1) === 0x0a) i++;
          } else {
            pendingCr = true;
          }
        }
        start = i + 1;
      }
      carry = data.slice(start);
      if (bytesRead === 0) break;
    }
    if (carry !== '') yield [lineNumber + 1, carry];
  } finally {
    await handle.close();
  }
}
