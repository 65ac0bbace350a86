/** Every parameter's bytes, and which parameters differ from them: how tests check that only targets changed. */
import type { Model } from '../../src/model/model.js';

/** Every parameter's bytes. */
export async function weights(model: Model): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const p of model.parameters()) {
    const v = await model.getParameter(p.name);
    out.set(p.name, Buffer.from(v.buffer, v.byteOffset, v.byteLength));
  }
  return out;
}

/** Names of the parameters whose bytes differ from `clean`. */
export async function changedFrom(model: Model, clean: Map<string, Buffer>): Promise<string[]> {
  const now = await weights(model);
  return [...clean].filter(([name, bytes]) => !bytes.equals(now.get(name) as Buffer)).map(([name]) => name);
}
