/** healbert's public API. */
export { type DoctorOptions, type DoctorReport, doctor } from './doctor.js';
export { type ErrorCode, HealbertError, isHealbertError } from './errors.js';
export { healbertVersion } from './version.js';
