import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/native/binding.js';

export const fixtures = join(packageRoot, 'test', 'fixtures');
export const glueFixtures = join(fixtures, 'glue');
export const textclsFixtures = join(fixtures, 'textcls');
export const sharedData = join(packageRoot, '..', 'shared', 'data');

/** A fresh temporary folder with the given files (path -> content). */
export function tempTree(files: Record<string, string | Buffer>): string {
  const root = mkdtempSync(join(tmpdir(), 'healbert-data-'));
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, content);
  }
  return root;
}
