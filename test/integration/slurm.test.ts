/**
 * Slurm lane (HEALBERT_TEST_SLURM=1, as root; also in CI, where CI=true, unless HEALBERT_TEST_SLURM=0): the job array that `healbert sweep --emit slurm` prints,
 * submitted to a real single-node Slurm on loopback (scripts/slurm-test-cluster.sh, started here when it
 * is not up, stopped again afterwards if this test started it). Three array tasks share one results
 * folder; every cell must finish exactly once.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { packageRoot } from '../../src/native/binding.js';
import type { CellResult } from '../../src/sweep/types.js';
import { tempDir } from '../helpers/checkpoints.js';
import { makeTinyModel, tinySpec } from '../helpers/sweep.js';

const run = promisify(execFile);
// CI runs as root on a Debian machine and has the minute this takes; a developer's `npm test` does not
// install and start Slurm unless asked.
const enabled =
  process.env.HEALBERT_TEST_SLURM === '1' ||
  (process.env.CI === 'true' && process.env.HEALBERT_TEST_SLURM !== '0' && process.getuid?.() === 0);
const slurmTest = enabled ? test.serial : test.skip;
const SHARDS = 3;
const clusterScript = join(packageRoot, 'scripts', 'slurm-test-cluster.sh');
// The CLI from source; the job runs in the repository (sbatch --chdir) so that --import=tsx resolves.
const cli = `${process.execPath} --import=tsx ${join(packageRoot, 'test', 'helpers', 'cli-entry.ts')}`;
const TERMINAL = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'NODE_FAIL',
  'OUT_OF_MEMORY',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
]);

let startedHere = false;

test.before(async (t) => {
  if (!enabled) return;
  const up = await run('sinfo', ['-h', '-o', '%a']).then(
    () => true,
    () => false,
  );
  const started = Date.now();
  await run(clusterScript, ['start'], { timeout: 300_000 });
  startedHere = !up;
  t.log(`cluster ${up ? 'was already up' : 'started'} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
});

test.after.always(async () => {
  if (startedHere) await run(clusterScript, ['stop']);
});

/** Each array task of a job, as `scontrol show job` reports it (finished tasks stay there for MinJobAge). */
async function arrayTasks(jobId: string): Promise<{ task: string; state: string; exit: string; start: string; end: string }[]> {
  const { stdout } = await run('scontrol', ['show', 'job', '-o', jobId]);
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const field = (name: string) => new RegExp(`(?:^| )${name}=(\\S*)`).exec(line)?.[1] ?? '';
      return {
        task: field('ArrayTaskId'),
        state: field('JobState'),
        exit: field('ExitCode'),
        start: field('StartTime'),
        end: field('EndTime'),
      };
    });
}

// pretrained: every cell starts from the model; finetuned: corrupted cells (and each baseline's control)
// start from their clean baseline's fine-tuned model, so they wait for baselines that another array task
// may own (or run them).
for (const protocol of ['pretrained', 'finetuned'] as const) {
  const title = `the emitted Slurm job array (${SHARDS} tasks, one shared results folder, ${protocol} protocol) runs every cell exactly once`;
  slurmTest(enabled ? title : `${title} (skipped: set HEALBERT_TEST_SLURM=1, as root)`, async (t) => {
    const dir = tempDir('healbert-slurm-');
    const specPath = join(dir, 'spec.json');
    writeFileSync(specPath, JSON.stringify(tinySpec(await makeTinyModel(), { protocol })));
    const out = join(dir, 'results');
    const { stdout: script } = await run(process.execPath, [
      '--import=tsx',
      join(packageRoot, 'test', 'helpers', 'cli-entry.ts'),
      'sweep',
      specPath,
      '--out',
      out,
      '--emit',
      'slurm',
      '--shards',
      String(SHARDS),
      '--command',
      cli,
    ]);
    t.regex(script, new RegExp(`^#SBATCH --array=0-${SHARDS - 1}$`, 'm'));
    t.regex(script, /^#SBATCH --output=.*\/slurm-%A_%a\.out$/m);
    const scriptPath = join(dir, 'job.sh');
    writeFileSync(scriptPath, script);
    mkdirSync(out, { recursive: true }); // as the script's comment says: Slurm opens its output files first

    const submitted = Date.now();
    const { stdout: jobText } = await run('sbatch', ['--parsable', `--chdir=${packageRoot}`, scriptPath], {
      // One libtorch thread per task and a cold tokenization cache shared by the tasks, like a shared folder.
      env: { ...process.env, HEALBERT_THREADS: '1', HEALBERT_CACHE_DIR: join(dir, 'cache') },
    });
    const jobId = jobText.trim().split(';')[0] as string;
    let tasks: Awaited<ReturnType<typeof arrayTasks>> = [];
    const deadline = Date.now() + 8 * 60_000;
    for (;;) {
      tasks = await arrayTasks(jobId);
      if (tasks.length === SHARDS && tasks.every((x) => TERMINAL.has(x.state))) break;
      if (Date.now() > deadline) {
        await run('scancel', [jobId]).catch(() => undefined);
        t.fail(`job ${jobId} did not finish in 8 minutes: ${JSON.stringify(tasks)}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    const seconds = (Date.now() - submitted) / 1000;
    t.log(`job ${jobId}: ${SHARDS} array tasks finished ${seconds.toFixed(1)} s after sbatch`);
    for (const x of tasks) t.log(`  task ${x.task}: ${x.state} exit ${x.exit}, ${x.start} -> ${x.end}`);
    t.deepEqual(
      tasks.map((x) => x.task).sort(),
      Array.from({ length: SHARDS }, (_, i) => String(i)),
    );
    for (const x of tasks) t.like(x, { state: 'COMPLETED', exit: '0:0' }, `array task ${x.task}`);

    // Every cell finished, done, once.
    const ids = readdirSync(join(out, 'cells')).sort();
    const cells = protocol === 'finetuned' ? 10 : 8; // finetuned: a control per seed
    t.is(ids.length, cells);
    const results = ids.map((id) => {
      const path = join(out, 'cells', id, 'result.json');
      t.true(existsSync(path), `${id} has a result`);
      return JSON.parse(readFileSync(path, 'utf8')) as CellResult;
    });
    t.deepEqual(
      results.map((r) => r.status),
      ids.map(() => 'done'),
    );
    for (const id of ids) t.false(existsSync(join(out, 'cells', id, 'lock')), `${id}: no lock left behind`);

    // Each array task wrote its log into the results folder and ran its share; the cell-end lines of all
    // three logs name every cell exactly once.
    const ended: string[] = [];
    const workersWithCells = new Set<string>();
    for (let i = 0; i < SHARDS; i++) {
      const log = join(out, `slurm-${jobId}_${i}.out`);
      t.true(existsSync(log), `array task ${i} wrote ${log}`);
      const text = readFileSync(log, 'utf8');
      t.regex(text, /^sweep tiny: \d+ cells, /m, `task ${i} started its shard`);
      t.regex(text, /^sweep finished: \d+ done, 0 diverged, 0 failed, 0 not run/m, `task ${i} finished its shard`);
      const mine = [...text.matchAll(/^(done|DIVERGED|FAILED) ([0-9a-f]+) /gm)].map((m) => m[2] as string);
      if (mine.length) workersWithCells.add(String(i));
      const others = mine.filter((id) => ids.indexOf(id) % SHARDS !== i).length; // shards take ids i, i+N, ...
      t.log(`  task ${i} ran ${mine.length} cells${others ? ` (${others} of another shard's)` : ''}`);
      ended.push(...mine);
    }
    t.deepEqual([...ended].sort(), ids, 'every cell ended exactly once across the array tasks');
    // The results agree: as many distinct worker processes as tasks that ran cells, all on this host.
    const workers = new Set(results.map((r) => `${r.worker.host}:${r.worker.pid}`));
    t.is(workers.size, workersWithCells.size);
    t.true(results.every((r) => r.worker.host === hostname()));

    const index = readFileSync(join(out, 'index.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as CellResult).id);
    t.is(index.length, cells);
    t.deepEqual([...new Set(index)].sort(), ids);
  });
}
