// What PostgreSQL refuses, refused first with a 400 naming the field. jsonb cannot hold the NUL
// character, UTF-8 cannot encode a lone surrogate, and serialising a deeply nested value
// overflows the stack. Reaching the database, any of these failed the whole multi-row statement
// of a group commit, so one bad request answered 500 for its neighbours too.
import { PostOfficeError, type ErrorCode } from '../errors.ts';

/** The most levels of objects and arrays a template context may nest, itself included. */
export const MAX_CONTEXT_DEPTH = 64;

// With the u flag a surrogate pair is one code point, so only an unpaired half matches.
const loneSurrogate = /\p{Cs}/u;

/** Why `value` cannot be stored as text, or null when it can. */
export function unstorableReason(value: string): string | null {
  if (value.includes('\u0000')) return 'must not contain the NUL character (U+0000)';
  // The native check is ten times faster than the pattern, which only finds where.
  if (value.isWellFormed()) return null;
  const lone = loneSurrogate.exec(value);
  if (lone !== null) {
    const unit = lone[0].charCodeAt(0).toString(16).toUpperCase();
    return `must not contain a lone surrogate (U+${unit} at character ${lone.index}), which UTF-8 cannot encode`;
  }
  return null;
}

/** Throws `code` naming `field` when `value` cannot be stored. */
export function checkStorableText(code: ErrorCode, field: string, value: string): void {
  const reason = unstorableReason(value);
  if (reason !== null) throw new PostOfficeError(code, `${field}: ${reason}`);
}

/** Like checkStorableText, for an object key: the message names the parent and quotes the key. */
export function checkStorableKey(code: ErrorCode, field: string, key: string): void {
  const reason = unstorableReason(key);
  // JSON.stringify escapes NUL and lone surrogates, so the message itself is always storable.
  if (reason !== null) throw new PostOfficeError(code, `${field}: the key ${JSON.stringify(key)} ${reason}`);
}

interface Visit {
  value: unknown;
  depth: number;
  parent: Visit | null;
  /** The key or index under the parent. */
  step: string | number;
}

/** "context" + the steps down to `visit`: context.user.items[2]. Built only for an error. */
function pathOf(root: string, visit: Visit): string {
  const steps: Array<string | number> = [];
  for (let at: Visit | null = visit; at !== null && at.parent !== null; at = at.parent) steps.push(at.step);
  return root + steps.reverse().map((step) => (typeof step === 'number' ? `[${step}]` : `.${step}`)).join('');
}

/**
 * Checks every key and string anywhere in a template context, and that it nests at most
 * MAX_CONTEXT_DEPTH levels. Iterative, with an explicit stack, and it stops at the first level
 * too deep: a 100,000-level body costs 65 steps down, never a stack overflow.
 */
export function checkContext(field: string, context: unknown): void {
  const stack: Visit[] = [{ value: context, depth: 1, parent: null, step: '' }];
  for (let visit = stack.pop(); visit !== undefined; visit = stack.pop()) {
    const { value, depth } = visit;
    if (typeof value === 'string') {
      // The path is built only for an error: most contexts are wide, and each is walked once.
      if (unstorableReason(value) !== null) checkStorableText('INVALID_TEXT', pathOf(field, visit), value);
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_CONTEXT_DEPTH) throw new PostOfficeError('VALIDATION_FAILED', `${field}: nested deeper than ${MAX_CONTEXT_DEPTH} levels`);
    if (Array.isArray(value)) {
      for (let index = value.length - 1; index >= 0; index--) stack.push({ value: value[index], depth: depth + 1, parent: visit, step: index });
      continue;
    }
    const entries = Object.entries(value);
    for (let index = entries.length - 1; index >= 0; index--) {
      const [key, child] = entries[index]!;
      if (unstorableReason(key) !== null) checkStorableKey('INVALID_TEXT', pathOf(field, visit), key);
      stack.push({ value: child, depth: depth + 1, parent: visit, step: key });
    }
  }
}
