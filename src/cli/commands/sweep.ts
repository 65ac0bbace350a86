import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { kubernetesIndexedJob, slurmArray } from '../../sweep/manifests.js';
import { planSweep } from '../../sweep/plan.js';
import { checkUnchangedInputs } from '../../sweep/resume.js';
import { checkedSweep, loadSpec, runSweep } from '../../sweep/run.js';
import { type Command, numberOption, stringOption, UsageError } from '../command.js';
import { planText, slurmTime } from '../plan-text.js';
import { sweepReporter } from '../sweep-progress.js';

export function parseShard(text: string | undefined): { index: number; count: number } | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const [index, count] = m ? [Number(m[1]), Number(m[2])] : [Number.NaN, Number.NaN];
  if (!m || count < 1 || index >= count) throw new UsageError(`--shard must be i/N with 0 <= i < N, got '${text}'`);
  return { index, count };
}

export const sweepCommand: Command = {
  name: 'sweep',
  summary: 'Run a sweep of corrupt -> damage -> fine-tune -> recovery cells from a spec (resumable).',
  args: '<spec.json|spec.yaml|sweep-dir>',
  positionals: { min: 1, max: 1 },
  description:
    'Finished cells are skipped: run the same command again to resume (a sweep folder resumes its own spec).\n' +
    'Every input file (weights, config, tokenizer, data) is fingerprinted; a rerun after one changed is refused unless\n' +
    '--recompute-changed (or a new --out) says what to do with the results computed from the old one.\n' +
    'Several processes or machines may share one results folder; --emit writes Slurm or Kubernetes manifests that do.\n' +
    'protocol finetuned: each clean task model also gets a control cell, healed like its corrupted cells but not\n' +
    'corrupted, that the residual gap is measured against; a folder from before controls runs only those on resume.',
  options: {
    out: { type: 'string', valueName: 'dir', description: 'results folder', defaultText: 'the sweep folder, or ./sweeps/<name>' },
    devices: { type: 'string', valueName: 'list', description: 'one worker process per GPU, e.g. 0,1,2,3' },
    device: { type: 'string', valueName: 'device', description: 'run in this process on this device (cpu, cuda, cuda:1)' },
    workers: { type: 'string', valueName: 'n', description: 'CPU worker processes', defaultText: '1' },
    shard: { type: 'string', valueName: 'i/N', description: "this machine's share of the cells" },
    fleet: {
      type: 'string',
      valueName: 'K|auto',
      description:
        'train K cells that differ only in their corruption together, in one batched step. The fleets are fixed by the spec and K, ' +
        'so the number of workers and who claims first never change a result (on the CPU with pip torch 2.x, keep the threads per worker fixed with HEALBERT_THREADS: float32 round-off depends on them); K itself changes round-off (float32: the last ' +
        'bits; bfloat16: losses near 1e-5, now and then an evaluation example), and each result records its fleet',
      defaultText: "the spec's fleet, else auto: 1 on the CPU, what fits on CUDA (at most 8)",
    },
    'recompute-changed': {
      type: 'boolean',
      description: 'rerun the finished cells whose inputs (weights, tokenizer, data) changed; old results kept as result.stale-<date>.json',
    },
    plan: {
      type: 'boolean',
      description:
        'print the plan instead of running: cells and their state, fleets, wall time from a short calibration here (--json: as data)',
    },
    json: { type: 'boolean', description: 'print events as JSON lines' },
    'no-progress': { type: 'boolean', description: 'plain log lines even on a terminal' },
    emit: { type: 'string', valueName: 'kind', description: 'print a slurm or k8s manifest instead of running' },
    shards: { type: 'string', valueName: 'N', description: '--emit: number of array tasks / indexed completions' },
    'gpus-per-task': { type: 'string', valueName: 'n', description: '--emit: GPUs per task', defaultText: '0' },
    'cpus-per-task': { type: 'string', valueName: 'n', description: '--emit: CPUs per task', defaultText: '2' },
    memory: { type: 'string', valueName: 'size', description: '--emit: memory per task (e.g. 16G)' },
    time: { type: 'string', valueName: 'limit', description: '--emit (slurm): time limit' },
    partition: { type: 'string', valueName: 'name', description: '--emit (slurm): partition' },
    image: { type: 'string', valueName: 'image', description: '--emit (k8s): container image' },
    'volume-claim': { type: 'string', valueName: 'name', description: '--emit (k8s): PVC holding the results folder' },
    command: { type: 'string', valueName: 'cmd', description: '--emit: how the machines run healbert', defaultText: 'healbert' },
  },
  examples: [
    'healbert sweep sweep.yaml --out ./results/healing',
    'healbert sweep sweep.yaml --out ./results/healing --devices 0,1,2,3',
    'healbert sweep sweep.yaml --out ./results/healing --device cuda --fleet 8',
    'healbert sweep sweep.yaml --out ./results/healing --plan   # cells, fleets, estimated time; no training',
    'healbert sweep ./results/healing            # resume',
    'healbert sweep ./results/healing --recompute-changed   # after the model or data changed in place',
    'healbert sweep sweep.yaml --out /shared/healing --emit slurm --shards 16 --gpus-per-task 1 > job.sh',
  ],
  async run({ positionals, values, io, signal }) {
    const source = positionals[0] as string;
    const emit = stringOption(values, 'emit');
    if (values.plan) {
      const isDir = existsSync(join(source, 'spec.json'));
      const fleetText = stringOption(values, 'fleet');
      const device = stringOption(values, 'device') ?? stringOption(values, 'devices')?.split(',')[0];
      const plan = await planSweep(source, {
        out: stringOption(values, 'out') ?? (isDir ? source : join('sweeps', (await loadSpec(source)).spec.name)),
        ...(device ? { device: /^\d+$/.test(device) ? `cuda:${device}` : device } : {}),
        ...(fleetText ? { fleet: fleetText === 'auto' ? 'auto' : Number(fleetText) } : {}),
        workers: stringOption(values, 'devices')?.split(',').length ?? numberOption(values, 'workers', { min: 1, integer: true }) ?? 1,
        ...(emit ? { shards: numberOption(values, 'shards', { min: 1, integer: true }) ?? 1 } : {}),
      });
      if (values.json) {
        const longest = Math.max(0, ...(plan.estimate.shards ?? []).map((s) => s.seconds));
        io.stdout.write(`${JSON.stringify(plan.estimate.shards ? { ...plan, suggestedTime: slurmTime(longest) } : plan, null, 2)}\n`);
      } else io.stdout.write(planText(plan));
      return 0;
    }
    if (emit) {
      const shards = numberOption(values, 'shards', { min: 1, integer: true });
      const out = stringOption(values, 'out');
      if (!shards || !out) throw new UsageError('--emit needs --shards and --out');
      // The same checks as a run, before any job is queued; the devices are the cluster's, not this machine's.
      const { spec, expanded } = await checkedSweep(source, { local: false, dir: resolve(out) });
      // Jobs that would refuse to start (inputs changed under finished cells) are not queued either.
      const recomputeChanged = values['recompute-changed'] === true;
      await checkUnchangedInputs(resolve(out), expanded.cells, recomputeChanged);
      const options = {
        spec: source,
        out,
        shards,
        name: `healbert-${spec.name.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`.replace(/-+$/, ''),
        command: stringOption(values, 'command') ?? 'healbert',
        ...(recomputeChanged ? { recomputeChanged } : {}),
        gpusPerTask: numberOption(values, 'gpus-per-task', { min: 0, integer: true }) ?? 0,
        cpusPerTask: numberOption(values, 'cpus-per-task', { min: 1, integer: true }) ?? 2,
        ...(stringOption(values, 'memory') ? { memory: stringOption(values, 'memory') as string } : {}),
        ...(stringOption(values, 'time') ? { time: stringOption(values, 'time') as string } : {}),
        ...(stringOption(values, 'partition') ? { partition: stringOption(values, 'partition') as string } : {}),
        ...(stringOption(values, 'image') ? { image: stringOption(values, 'image') as string } : {}),
        ...(stringOption(values, 'volume-claim') ? { volumeClaim: stringOption(values, 'volume-claim') as string } : {}),
      };
      if (emit === 'slurm') io.stdout.write(slurmArray(options));
      else if (emit === 'k8s') io.stdout.write(kubernetesIndexedJob(options));
      else throw new UsageError(`--emit must be slurm or k8s, got '${emit}'`);
      return 0;
    }
    const devicesText = stringOption(values, 'devices');
    const device = stringOption(values, 'device');
    if (devicesText && device) throw new UsageError('use --devices (several worker processes) or --device (this process), not both');
    const devices = devicesText
      ? devicesText.split(',').map((d) => (/^\d+$/.test(d.trim()) ? `cuda:${d.trim()}` : d.trim()))
      : device
        ? [device]
        : undefined;
    const fleetText = stringOption(values, 'fleet');
    const fleet = fleetText === undefined || fleetText === 'auto' ? fleetText : Number(fleetText);
    if (typeof fleet === 'number' && !(Number.isInteger(fleet) && fleet >= 1 && fleet <= 256))
      throw new UsageError(`--fleet must be an integer from 1 to 256 or auto, got '${fleetText}'`);
    const isDir = existsSync(join(source, 'spec.json'));
    const out = stringOption(values, 'out') ?? (isDir ? source : join('sweeps', (await loadSpec(source)).spec.name));
    const mode = values.json ? 'json' : io.stderr.isTTY && !values['no-progress'] ? 'tty' : 'plain';
    const shard = parseShard(stringOption(values, 'shard'));
    const summary = await runSweep(source, {
      out,
      ...(devices ? { devices } : {}),
      workers: numberOption(values, 'workers', { min: 1, max: 256, integer: true }) ?? 1,
      ...(shard ? { shard } : {}),
      ...(fleet !== undefined ? { fleet } : {}),
      ...(values['recompute-changed'] ? { recomputeChanged: true } : {}),
      signal,
      onEvent: sweepReporter(io, mode),
    });
    if (!values.json)
      io.stdout.write(
        `results in ${summary.dir}: ${summary.done} done, ${summary.diverged} diverged, ${summary.failed} failed, ${summary.remaining} not run\n`,
      );
    return summary.failed > 0 || summary.remaining > 0 ? 1 : 0;
  },
};
