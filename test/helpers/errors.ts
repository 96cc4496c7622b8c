// What a call threw or a promise rejected with, for tests that look at the error itself (class, message);
// a call that does not throw fails the test.

/** The error `f()` throws. */
export function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, none was thrown');
}

/** The error `p` rejects with. */
export async function rejected(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection, the promise resolved');
}
