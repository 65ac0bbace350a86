/**
 * Job manifests that run a sweep across machines, every task one shard writing into one shared results
 * folder: a Slurm job array (sbatch script) and a Kubernetes Indexed Job.
 */
import { HealbertError } from '../errors.js';

/** What a Slurm or Kubernetes manifest runs: the spec, the shared results folder, the shards and the resources per task. */
export interface ManifestOptions {
  /** The spec file (or sweep folder) as the machines will see it. */
  spec: string;
  /** The shared results folder as the machines will see it. */
  out: string;
  shards: number;
  name: string;
  /** The command that runs healbert on the machines (default: healbert). */
  command?: string;
  gpusPerTask?: number;
  cpusPerTask?: number;
  memory?: string;
  time?: string;
  partition?: string;
  /** Kubernetes: the container image, and the volume claim holding the results folder. */
  image?: string;
  volumeClaim?: string;
  /** Every task runs with --recompute-changed (the results folder has cells whose inputs changed). */
  recomputeChanged?: boolean;
  mountPath?: string;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function check(o: ManifestOptions): void {
  if (!Number.isInteger(o.shards) || o.shards < 1)
    throw new HealbertError('ERR_ARGUMENT', `shards must be an integer >= 1, got ${o.shards}`);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(o.name))
    throw new HealbertError('ERR_ARGUMENT', `job name "${o.name}" must be lowercase letters, digits and dashes`);
}

/** An sbatch script that runs the sweep as a Slurm job array, one array task per shard, into one shared folder. */
export function slurmArray(o: ManifestOptions): string {
  check(o);
  const gpus = o.gpusPerTask ?? 0;
  const device = gpus > 0 ? 'cuda' : 'cpu';
  return [
    '#!/bin/bash',
    `#SBATCH --job-name=${o.name}`,
    `#SBATCH --array=0-${o.shards - 1}`,
    `#SBATCH --output=${o.out}/slurm-%A_%a.out`,
    `#SBATCH --cpus-per-task=${o.cpusPerTask ?? 2}`,
    ...(gpus > 0 ? [`#SBATCH --gpus-per-task=${gpus}`] : []),
    ...(o.memory ? [`#SBATCH --mem=${o.memory}`] : []),
    ...(o.time ? [`#SBATCH --time=${o.time}`] : []),
    ...(o.partition ? [`#SBATCH --partition=${o.partition}`] : []),
    '# One array task per shard; all of them write into the same results folder, which must be shared.',
    '# Resubmitting the script resumes: finished cells are skipped, interrupted ones redone.',
    '# Slurm opens the --output files before the script runs, so the results folder must exist first:',
    `#   mkdir -p ${quote(o.out)} && sbatch <this script>`,
    'set -euo pipefail',
    '# libtorch would otherwise use every core of the node in every task.',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion in the emitted script
    'export HEALBERT_THREADS="${SLURM_CPUS_PER_TASK:-1}"',
    `${o.command ?? 'healbert'} sweep ${quote(o.spec)} --out ${quote(o.out)} --shard "\${SLURM_ARRAY_TASK_ID}/${o.shards}" --device ${device} --no-progress${o.recomputeChanged ? ' --recompute-changed' : ''}`,
    '',
  ].join('\n');
}

/** A Kubernetes Indexed Job that runs the sweep, one completion index per shard, into a results folder on a volume claim. */
export function kubernetesIndexedJob(o: ManifestOptions): string {
  check(o);
  if (!o.image) throw new HealbertError('ERR_ARGUMENT', 'a Kubernetes job needs a container image (--image)');
  const gpus = o.gpusPerTask ?? 0;
  const mount = o.mountPath ?? '/results';
  const command = [
    ...(o.command ?? 'healbert').split(' '),
    'sweep',
    o.spec,
    '--out',
    o.out,
    '--shard',
    `$(JOB_COMPLETION_INDEX)/${o.shards}`,
    '--device',
    gpus > 0 ? 'cuda' : 'cpu',
    '--no-progress',
    ...(o.recomputeChanged ? ['--recompute-changed'] : []),
  ];
  const lines = [
    'apiVersion: batch/v1',
    'kind: Job',
    'metadata:',
    `  name: ${o.name}`,
    'spec:',
    '  completionMode: Indexed',
    `  completions: ${o.shards}`,
    `  parallelism: ${o.shards}`,
    '  backoffLimitPerIndex: 3',
    '  template:',
    '    spec:',
    '      restartPolicy: Never',
    '      containers:',
    '        - name: healbert',
    `          image: ${o.image}`,
    `          command: [${command.map((c) => JSON.stringify(c)).join(', ')}]`,
    '          resources:',
    '            limits:',
    `              cpu: "${o.cpusPerTask ?? 2}"`,
    ...(o.memory ? [`              memory: ${o.memory}`] : []),
    ...(gpus > 0 ? [`              nvidia.com/gpu: ${gpus}`] : []),
  ];
  if (o.volumeClaim) {
    lines.push(
      '          volumeMounts:',
      '            - name: results',
      `              mountPath: ${mount}`,
      '      volumes:',
      '        - name: results',
      '          persistentVolumeClaim:',
      `            claimName: ${o.volumeClaim}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
