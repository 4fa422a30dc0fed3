// Cleanups run after the file's tests in reverse order of registration (like a stack), so a
// database is dropped only after the sidecars and clients that use it have stopped.
import { after } from 'node:test';

const stack: (() => unknown)[] = [];

// Registered when the module loads, at the top level of the test file: an `after` registered
// later from inside a hook or test would belong to that hook or test and run too early.
after(async () => {
  while (stack.length > 0) await stack.pop()!();
});

export function defer(cleanup: () => unknown): void {
  stack.push(cleanup);
}
