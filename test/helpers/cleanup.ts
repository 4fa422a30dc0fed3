// Cleanups run after the file's tests in reverse order of registration (like a stack), so a
// database is dropped only after the sidecars and clients that use it have stopped.
import { after } from 'node:test';

const stack: (() => unknown)[] = [];
let registered = false;

export function defer(cleanup: () => unknown): void {
  stack.push(cleanup);
  if (registered) return;
  registered = true;
  after(async () => {
    while (stack.length > 0) await stack.pop()!();
  });
}
