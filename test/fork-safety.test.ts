/**
 * Spawning processes from JS while the engine thread trains must not hang. OpenBLAS's pthread build
 * (Debian's libtorch) stops its threads in a fork handler; a BLAS call in flight on the engine thread then
 * waited forever (see native/bindings/engine_thread.cc).
 */
import { spawn } from 'node:child_process';
import test from 'ava';
import { Model } from '../src/model/model.js';

test('child processes spawned during training steps neither hang the steps nor fail', async (t) => {
  t.timeout(120_000);
  const config = {
    model_type: 'bert',
    vocab_size: 1000,
    hidden_size: 256,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 1024,
    max_position_embeddings: 128,
    type_vocab_size: 2,
  };
  const model = await Model.fromConfig(config, { seed: 0 });
  await model.configureTraining({ lr: 1e-4, warmupSteps: 0, totalSteps: 1000 });
  const b = 16;
  const s = 128;
  const batch = {
    batchSize: b,
    seqLen: s,
    inputIds: Int32Array.from({ length: b * s }, (_, i) => (i * 7) % 1000),
    labels: Int32Array.from({ length: b }, (_, i) => i % 2),
  };
  // Train without pause while 12 processes are spawned one after another; then let the last step end.
  let spawning = true;
  let steps = 0;
  const training = (async () => {
    while (spawning || steps < 3) {
      const { loss } = await model.trainStep(batch);
      t.true(Number.isFinite(loss));
      steps += 1;
    }
  })();
  for (let i = 0; i < 12; i++) {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('true');
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`child exited with ${code}`))));
    });
  }
  spawning = false;
  await training;
  model.dispose();
  t.log(`12 processes spawned during ${steps} training steps`);
  t.true(steps >= 3);
});
