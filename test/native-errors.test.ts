import test from 'ava';
import { isHealbertError } from '../src/errors.js';
import { loadNative } from '../src/native/binding.js';

const native = loadNative();

test('a libtorch error inside the addon reaches JS with code ERR_TORCH and the torch message (sync)', (t) => {
  const error = t.throws(() => native.selfTest('torch'));
  t.is((error as Error & { code: string }).code, 'ERR_TORCH');
  t.regex(error.message, /mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)/);
  t.notRegex(error.message, /Exception raised from/, 'no C++ backtrace in the message');
  t.true(isHealbertError(error));
});

test('a libtorch error inside async work rejects the promise with ERR_TORCH', async (t) => {
  const error = await t.throwsAsync(native.selfTest('torch', true));
  t.is((error as Error & { code: string }).code, 'ERR_TORCH');
  t.regex(error.message, /shapes cannot be multiplied/);
});

for (const [kind, code] of [
  ['healbert', 'ERR_SHAPE'],
  ['std', 'ERR_INTERNAL'],
  ['unknown', 'ERR_INTERNAL'],
] as const) {
  test(`a ${kind} exception becomes ${code}, sync and async`, async (t) => {
    t.is((t.throws(() => native.selfTest(kind)) as Error & { code: string }).code, code);
    t.is(((await t.throwsAsync(native.selfTest(kind, true))) as Error & { code: string }).code, code);
  });
}

test('the process survives and keeps working after errors', async (t) => {
  t.is(native.selfTest('ok'), 'ok');
  t.is(await native.selfTest('ok', true), 'ok');
});

test('bad arguments from JS are TypeErrors with ERR_ARGUMENT, not crashes', (t) => {
  const call = native.smokeTest as unknown as (...args: unknown[]) => unknown;
  for (const args of [[], [3, 4], ['cpu'], ['cpu', 1.5], ['cpu', 'big']]) {
    const error = t.throws(() => call(...args), { instanceOf: TypeError });
    t.is((error as Error & { code: string }).code, 'ERR_ARGUMENT', JSON.stringify(args));
  }
  const selfTest = native.selfTest as unknown as (...args: unknown[]) => unknown;
  t.is((t.throws(() => selfTest('nonsense')) as Error & { code: string }).code, 'ERR_ARGUMENT');
});
