import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './native/binding.js';

/** healbert's own version, from package.json. */
export const healbertVersion: string = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
