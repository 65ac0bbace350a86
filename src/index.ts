/** healbert's public API. */
export type { Batch } from './batch.js';
export * from './data/index.js';
export { type DoctorOptions, type DoctorReport, doctor } from './doctor.js';
export { type ErrorCode, HealbertError, isHealbertError } from './errors.js';
export * from './tokenizer/index.js';
export { healbertVersion } from './version.js';
