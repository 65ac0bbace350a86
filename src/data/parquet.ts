/** Parquet rows as plain objects (hyparquet, with the common compressions); 64-bit integers become numbers. */
import { HealbertError } from '../errors.js';

export async function readParquetRows(path: string): Promise<Record<string, unknown>[]> {
  const { asyncBufferFromFile, parquetReadObjects } = await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors');
  let rows: Record<string, unknown>[];
  try {
    const file = await asyncBufferFromFile(path);
    rows = (await parquetReadObjects({ file, compressors })) as Record<string, unknown>[];
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'ERR_IO' : 'ERR_DATA';
    throw new HealbertError(code, `cannot read Parquet file ${path}: ${(error as Error).message}`, { cause: error });
  }
  for (const row of rows) {
    for (const [key, value] of Object.entries(row)) if (typeof value === 'bigint') row[key] = Number(value);
  }
  return rows;
}
