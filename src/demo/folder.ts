/**
 * A demo's results folder holds one protocol. A sweep may share its folder with another spec (that is how
 * a sweep is extended), and analysis then reads every cell in it: a finetuned demo run into a pretrained
 * demo's folder would print one summary of both protocols' cells. The demo refuses such a folder before
 * it writes anything.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HealbertError } from '../errors.js';
import type { Protocol } from '../sweep/types.js';
import { demoOutDefault } from './spec.js';

async function protocolOf(file: string): Promise<Protocol | undefined> {
  let parsed: { protocol?: unknown; config?: { protocol?: unknown } };
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return undefined; // unreadable: whoever reads it as a spec or a cell reports it
  }
  const protocol = parsed.config ? parsed.config.protocol : parsed.protocol;
  return protocol === 'finetuned' || protocol === 'pretrained' ? protocol : undefined;
}

/** ERR_CONFIG when `out` holds a sweep (spec.json) or cells (cells/<id>/config.json) of another protocol. */
export async function checkDemoFolder(out: string, protocol: Protocol): Promise<void> {
  const files = [join(out, 'spec.json')];
  const cells = join(out, 'cells');
  if (existsSync(cells)) for (const id of await readdir(cells)) files.push(join(cells, id, 'config.json'));
  for (const file of files) {
    if (!existsSync(file)) continue;
    const other = await protocolOf(file);
    if (other === undefined || other === protocol) continue;
    throw new HealbertError(
      'ERR_CONFIG',
      `${out}: holds results of the ${other} protocol (${file}); a ${protocol} demo there would mix both protocols' cells in one ` +
        `analysis. Pass another --out (the ${protocol} demo's default is ./${demoOutDefault(protocol)}).`,
    );
  }
}
