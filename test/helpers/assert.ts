import assert from 'node:assert/strict';

/** Awaits a promise that must reject with `type`; returns the error for further checks. */
export async function rejectsWith<E extends Error>(p: Promise<unknown>, type: new (...a: never[]) => E, check?: (e: E) => void): Promise<E> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof type, `expected ${type.name}, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    check?.(err);
    return err;
  }
  assert.fail(`expected ${type.name}, but it resolved`);
}
