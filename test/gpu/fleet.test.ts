/**
 * GPU lane (HEALBERT_TEST_GPU=1): fleets on CUDA. Every member of a fleet of 3 trains as the same model
 * alone on CUDA (the batched products, SDPA called per member with the same lent seed, the fused AdamW
 * kernel on member slices, clipping on the device), and float32 fleets agree with the CPU.
 */
import { Model } from '../../src/model/model.js';
import { maxAbsDiff, modelFixture } from '../helpers/fixtures.js';
import { batch, PLANS, preparePlans, STEPS, worstParameterDifference } from '../helpers/fleet.js';
import { gpuTest } from '../helpers/gpu.js';

for (const dtype of ['float32', 'bfloat16'] as const) {
  gpuTest(`CUDA ${dtype}: every member of a fleet of 3 trains as the same model alone`, async (t) => {
    const options = { seed: 7, device: 'cuda', dtype };
    const fleet = await Model.load(modelFixture('tiny-bert'), { ...options, members: PLANS.length });
    const solos = await Promise.all(PLANS.map(() => Model.load(modelFixture('tiny-bert'), options)));
    try {
      await preparePlans(fleet, solos);
      t.is(fleet.engineInfo().optimizer, 'fused');
      // bfloat16 rounds the batched and the single products differently: a looser bound.
      const lossBound = dtype === 'float32' ? 1e-4 : 2e-2;
      for (let step = 0; step < STEPS; step++) {
        const b = batch(0, step, 'class', true);
        const r = await fleet.trainStep(b);
        for (const [k, solo] of solos.entries()) {
          const s = await solo.trainStep(b);
          t.true(
            Math.abs((r.losses[k] as number) - s.loss) <= lossBound * Math.abs(s.loss),
            `member ${k} step ${step + 1}: ${r.losses[k]} alone ${s.loss}`,
          );
        }
      }
      if (dtype === 'float32') {
        for (const [k, solo] of solos.entries()) {
          const worst = await worstParameterDifference(fleet, k, solo);
          t.true(worst.relative <= 1e-4, `member ${k}: ${worst.name} differs by ${worst.relative} relative`);
        }
        // The same fleet on the CPU gives the same outputs.
        const cpu = await Model.load(modelFixture('tiny-bert'), { seed: 7, members: PLANS.length });
        for (const p of cpu.parameters())
          for (let k = 0; k < PLANS.length; k++)
            await cpu.setParameter(p.name, await fleet.getParameter(p.name, { member: k }), { member: k });
        const b = batch(0, 9, 'class', true);
        const [onGpu, onCpu] = [await fleet.predictMembers(b), await cpu.predictMembers(b)];
        for (let k = 0; k < PLANS.length; k++) t.true(maxAbsDiff(onGpu[k] as Float32Array, onCpu[k] as Float32Array) <= 1e-4);
        cpu.dispose();
      }
    } finally {
      fleet.dispose();
      for (const s of solos) s.dispose();
    }
  });
}
