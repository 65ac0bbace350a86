/**
 * Parity cases against Hugging Face transformers, made on the fly by test/python/real_size_reference.py in the
 * pip-torch lane (real-size-transformers.test.ts at the published sizes, families-transformers.test.ts for the
 * families beyond BERT at tiny sizes): eval logits, the loss, every gradient, and every parameter after three
 * steps of transformers' own training arithmetic, for one batch of 2 x 24 with a padded row. The tolerances
 * and why they are what they are: real-size-transformers.test.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ExecutionContext } from 'ava';
import type { Batch } from '../../src/batch.js';
import { Model } from '../../src/model/model.js';
import { readSafetensorsHeader, type SafetensorsHeader } from '../../src/model/safetensors.js';
import { tempDir } from './checkpoints.js';
import { configureAsReference, isKeyBias, maxAbs, maxAbsDiff } from './fixtures.js';
import { pythonScripts } from './python.js';

export const TOLERANCE = { logits: 1e-4, loss: 1e-5, gradient: 1e-3, parameter: 1e-5 };

/**
 * Adam divides each gradient element by its running RMS, so where an element's gradient is within round-off
 * of zero at some step, the round-off in its sign becomes a difference of up to lr in its update, and the
 * next step's forward pass spreads it. healbert's first gradients equal transformers' bit for bit for the
 * classification and regression heads (measured, bert-base and roberta-base: logits, loss and all gradients
 * identical); the MLM head's differ by round-off (it projects only the labelled positions), and the AdamW
 * update itself rounds differently from torch.optim.AdamW's. After 3 steps at lr 1e-3, up to ~0.1% of a
 * tensor's elements differ by more than 1e-5 of its largest (up to ~0.2 lr; measured, bert-base MLM: 514 of
 * 589,824 in one tensor; bert-base classification: 4 of 109 M in all). A real
 * difference in the training arithmetic (decay groups, schedule, bias correction, clipping, eps) moves most
 * elements of a tensor. So: every element within Adam's reach, and all but max(16, 1%) of each tensor's
 * elements within 1e-5 of the tensor's largest.
 */
const allowedOutliers = (numel: number) => Math.max(16, Math.ceil(0.01 * numel));

/** A reference file read one tensor at a time (each is up to 94 MB; the whole file about 1 GB). */
export class Reference {
  private constructor(
    readonly header: SafetensorsHeader,
    private readonly fd: number,
  ) {}

  static async open(path: string): Promise<Reference> {
    return new Reference(await readSafetensorsHeader(path), openSync(path, 'r'));
  }

  has(name: string): boolean {
    return this.header.tensors.has(name);
  }

  private bytes(name: string): Buffer {
    const t = this.header.tensors.get(name);
    if (!t) throw new Error(`${this.header.path} lacks ${name}`);
    const buffer = Buffer.alloc(t.nbytes);
    readSync(this.fd, buffer, 0, t.nbytes, t.offset);
    return buffer;
  }

  f32(name: string): Float32Array {
    const b = this.bytes(name);
    return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  }

  i64(name: string): number[] {
    const b = this.bytes(name);
    return Array.from(new BigInt64Array(b.buffer, b.byteOffset, b.byteLength / 8), Number);
  }

  shape(name: string): number[] {
    return this.header.tensors.get(name)?.shape ?? [];
  }

  meta<T>(key: string): T {
    return JSON.parse(this.header.metadata[key] as string) as T;
  }

  close(): void {
    closeSync(this.fd);
  }
}

export interface Made {
  case: string;
  model: string;
  reference: string;
  seconds: number;
  phases: Record<string, number>;
}

/**
 * The script runs once for every case, in the background: it prints one JSON line as each case is written,
 * so healbert checks a case while transformers builds the next (runPython would wait for all of them).
 */
export class References {
  readonly dir = tempDir('healbert-real-size-');
  private readonly waiting = new Map<string, { resolve: (m: Made) => void; reject: (e: Error) => void }>();
  private readonly ready = new Map<string, Promise<Made>>();
  private readonly child: ChildProcess;

  constructor(python: string, cases: readonly string[]) {
    for (const c of cases) {
      const key = c.replaceAll(':', '-');
      this.ready.set(key, new Promise((resolve, reject) => this.waiting.set(key, { resolve, reject })));
      this.ready.get(key)?.catch(() => {}); // a case nobody awaits must not be an unhandled rejection
    }
    this.child = spawn(python, [join(pythonScripts, 'real_size_reference.py'), '--out', this.dir, '--cases', cases.join(',')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false' },
    });
    let stderr = '';
    this.child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-20_000);
    });
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const m = JSON.parse(line) as Made;
      this.waiting.get(m.case)?.resolve(m);
      this.waiting.delete(m.case);
    });
    const failAll = (why: string) => {
      for (const w of this.waiting.values()) w.reject(new Error(`real_size_reference.py ${why}:\n${stderr}`));
      this.waiting.clear();
    };
    this.child.on('error', (e) => failAll(`did not start (${e.message})`));
    this.child.on('close', (code, signal) => failAll(`exited with ${code ?? signal} before writing the case`));
  }

  get(key: string): Promise<Made> {
    return this.ready.get(key) ?? Promise.reject(new Error(`no case ${key}`));
  }

  dispose(): void {
    if (this.child.exitCode === null && this.child.pid !== undefined) this.child.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function batchOf(ref: Reference, head: string): Batch {
  const [batchSize, seqLen] = ref.shape('input_ids') as [number, number];
  const labels = head === 'regression' ? ref.f32('labels') : ref.i64('labels');
  return {
    batchSize,
    seqLen,
    inputIds: Int32Array.from(ref.i64('input_ids')),
    attentionMask: Uint8Array.from(ref.i64('attention_mask')),
    // Two segments where the reference has them (BERT, ELECTRA, ALBERT); none where it has only zeros.
    ...(ref.i64('token_type_ids').some((v) => v !== 0) ? { tokenTypeIds: Int32Array.from(ref.i64('token_type_ids')) } : {}),
    ...(head === 'mlm'
      ? { mlmLabels: Int32Array.from(labels) }
      : { labels: head === 'regression' ? Float32Array.from(labels) : Int32Array.from(labels) }),
  };
}

const relativeTo = (value: number, reference: number) => Math.abs(value - reference) / Math.max(1, Math.abs(reference));

/** Tracks the largest relative difference over tensors, and which tensor it was. */
class Worst {
  value = -1;
  name = '';
  add(name: string, value: number): void {
    if (value > this.value) [this.value, this.name] = [value, name];
  }
  toString(): string {
    return `${this.value.toExponential(2)} (${this.name})`;
  }
}

/** Max |a - b|, max |b| and how many elements differ by more than `tolerance` of max |b|. */
function compare(a: Float32Array, b: Float32Array, tolerance: number): { diff: number; scale: number; beyond: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  const scale = maxAbs(b);
  const limit = tolerance * scale;
  let diff = 0;
  let beyond = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    if (d > diff) diff = d;
    if (d > limit) beyond++;
  }
  return { diff, scale, beyond };
}

export async function checkCase(t: ExecutionContext, item: string, references: References): Promise<void> {
  const [arch, head] = item.split(':') as [string, string];
  const waited = Date.now();
  const m = await references.get(`${arch}-${head}`);
  const clock = [Date.now()];
  const timings: string[] = [];
  const lap = (what: string) => {
    clock.push(Date.now());
    timings.push(`${what} ${(((clock.at(-1) as number) - (clock.at(-2) as number)) / 1000).toFixed(1)}`);
  };
  const ref = await Reference.open(m.reference);
  const model = await Model.load(m.model, { mlmHead: head === 'mlm' });
  lap('load');
  const lines = [
    `${arch} ${head}: ${(model.numParameters / 1e6).toFixed(1)} M parameters; transformers took ${m.seconds} s ` +
      `(${Object.entries(m.phases)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}), ${((clock[0] as number) - waited) / 1000} s of it waited for`,
  ];
  try {
    const batch = batchOf(ref, head);
    // Every reference tensor is a healbert parameter, and every healbert parameter has a reference but
    // the pooler and classifier an MLM model carries unused (BertForMaskedLM has neither).
    const unused = (name: string) => head === 'mlm' && /^(bert\.pooler|classifier)\./.test(name);
    const compared = model.parameters().filter((p) => !unused(p.name));
    const refNames = [...ref.header.tensors.keys()].filter((k) => k.startsWith('grad.')).map((k) => k.slice(5));
    t.deepEqual(
      refNames.filter((n) => !model.parameters().some((p) => p.name === n)),
      [],
      'reference parameters healbert lacks',
    );
    t.deepEqual(
      compared.filter((p) => !ref.has(`grad.${p.name}`)).map((p) => p.name),
      [],
      'healbert parameters the reference lacks',
    );
    t.deepEqual(model.loadReport?.unexpected, [], 'checkpoint tensors healbert did not recognise');
    t.deepEqual(
      model.loadReport?.initialised.filter((n) => !unused(n)),
      [],
      'parameters left at a fresh initialisation',
    );

    const refLoss = ref.f32('loss')[0] as number;
    if (head === 'mlm') {
      // Predictions over the vocabulary at the labelled positions (the reference keeps their logits only).
      const labelled = [...(batch.mlmLabels as Int32Array)].filter((y) => y !== -100);
      const refLogits = ref.f32('logits');
      const vocab = model.config.vocabSize;
      let correct = 0;
      labelled.forEach((y, k) => {
        const row = refLogits.subarray(k * vocab, (k + 1) * vocab);
        if (row.indexOf(Math.max(...row)) === y) correct++;
      });
      const r = await model.evaluateMlm(batch);
      lines.push(`MLM loss ${r.lossSum / r.count} vs ${refLoss}, ${r.correct}/${r.count} correct vs ${correct}/${labelled.length}`);
      t.is(r.count, labelled.length);
      t.is(r.correct, correct);
      t.true(correct > 0, 'the reference labels some positions with the top prediction');
      t.true(relativeTo(r.lossSum / r.count, refLoss) <= TOLERANCE.loss, `evaluateMlm loss ${r.lossSum / r.count} vs ${refLoss}`);
    } else {
      const diff = maxAbsDiff(await model.predict(batch), ref.f32('logits'));
      lines.push(`max |logit diff| ${diff.toExponential(2)}`);
      t.true(diff <= TOLERANCE.logits, `logits differ by ${diff}`);
    }
    lap('eval');

    const { loss, gradients } = await model.lossAndGradients(batch);
    lines.push(`loss ${loss} vs ${refLoss} (relative ${relativeTo(loss, refLoss).toExponential(2)})`);
    t.true(relativeTo(loss, refLoss) <= TOLERANCE.loss, `loss ${loss} vs ${refLoss}`);
    t.deepEqual([...gradients.keys()].filter(unused), [], 'parameters outside the MLM computation get no gradient');
    const grads = new Worst();
    const keyBiasDiffs: [string, number][] = [];
    let gradScale = 0;
    for (const p of compared) {
      const c = compare(gradients.get(p.name) ?? new Float32Array(p.numel), ref.f32(`grad.${p.name}`), TOLERANCE.gradient);
      gradScale = Math.max(gradScale, c.scale);
      if (isKeyBias(p.name)) keyBiasDiffs.push([p.name, c.diff]);
      else grads.add(p.name, c.diff / Math.max(c.scale, 1e-12));
    }
    gradients.clear();
    const keyBiasGrads = new Worst();
    for (const [name, diff] of keyBiasDiffs) keyBiasGrads.add(name, diff / gradScale);
    lines.push(`worst relative gradient difference ${grads}; key biases ${keyBiasGrads} of the gradient scale`);
    t.true(grads.value <= TOLERANCE.gradient, `gradient of ${grads.name}: relative difference ${grads.value}`);
    t.true(keyBiasGrads.value <= TOLERANCE.gradient, `gradient of ${keyBiasGrads.name}: ${keyBiasGrads.value} of the scale`);
    lap('gradients');

    const adamw = ref.meta<{ lr: number; betas: [number, number]; eps: number; weight_decay: number }>('adamw');
    const schedule = ref.meta<{ warmup_steps: number; total_steps: number }>('schedule');
    const steps = ref.meta<number>('steps');
    await configureAsReference(model, { adamw, schedule, maxGradNorm: ref.meta<number>('max_grad_norm') });
    const refLosses = ref.f32('step_losses');
    const stepLosses: number[] = [];
    for (let s = 0; s < steps; s++) stepLosses.push((await model.trainStep(batch, { dropout: false })).loss);
    lines.push(`step losses ${stepLosses.map((l) => l.toFixed(6)).join(', ')} vs ${[...refLosses].map((l) => l.toFixed(6)).join(', ')}`);
    stepLosses.forEach((l, s) => {
      t.true(relativeTo(l, refLosses[s] as number) <= TOLERANCE.loss, `step ${s} loss ${l} vs ${refLosses[s]}`);
    });
    lap('steps');

    // Adam moves an element by at most about lr a step, whatever its gradient: the bound for every element.
    const adamReach = 2 * adamw.lr * steps;
    const params = new Worst();
    const crowded = new Worst();
    const farthest = new Worst();
    let beyond = 0;
    let total = 0;
    for (const p of compared) {
      const c = compare(await model.getParameter(p.name), ref.f32(`after.${p.name}`), TOLERANCE.parameter);
      farthest.add(p.name, c.diff);
      if (isKeyBias(p.name)) continue;
      params.add(p.name, c.diff / Math.max(c.scale, 1e-12));
      crowded.add(`${p.name}: ${c.beyond} of ${p.numel}`, c.beyond / allowedOutliers(p.numel));
      beyond += c.beyond;
      total += p.numel;
    }
    lines.push(
      `after ${steps} steps: worst relative parameter difference ${params}; ${beyond} of ${total} elements beyond ` +
        `${TOLERANCE.parameter} (most, against the allowance: ${crowded}); largest absolute difference ${farthest}`,
    );
    t.true(crowded.value <= 1, `after ${steps} steps, too many elements beyond ${TOLERANCE.parameter} relative: ${crowded.name}`);
    t.true(farthest.value <= adamReach, `${farthest.name}: ${farthest.value} apart after ${steps} steps, more than Adam can move it`);
    lap('parameters');
  } finally {
    lines.push(`healbert side (s): ${timings.join(', ')}`);
    t.log(lines.join('\n'));
    model.dispose();
    ref.close();
    rmSync(m.model, { recursive: true, force: true });
    rmSync(m.reference, { force: true });
  }
}
