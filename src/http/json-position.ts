// Where a body stops being JSON. V8's own message gives a position for some errors and not for
// others ("Unexpected token 'x', …"), and quotes a piece of the body; this scanner finds the
// offset of the first character that cannot continue a JSON text. It runs only on a body that
// already failed to parse, and keeps its own stack so deep nesting cannot overflow the call stack.

const whitespace = new Set([' ', '\t', '\n', '\r']);
const escapes = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const number = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const hex = /^[0-9a-fA-F]{4}$/;

/** The offset of the first character that breaks `text` as JSON; -1 when it is valid. */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const skip = () => {
    while (i < text.length && whitespace.has(text[i]!)) i++;
  };
  const string = (): boolean => {
    i++; // the opening quote
    for (;;) {
      const c = text[i];
      if (c === undefined || c < ' ') return false;
      if (c === '"') {
        i++;
        return true;
      }
      if (c === '\\') {
        const next = text[i + 1];
        if (next === 'u') {
          if (!hex.test(text.slice(i + 2, i + 6))) return (i += 2), false;
          i += 6;
        } else if (next !== undefined && escapes.has(next)) i += 2;
        else return (i += 1), false;
      } else i++;
    }
  };
  const literal = (word: string): boolean => {
    for (const c of word) {
      if (text[i] !== c) return false;
      i++;
    }
    return true;
  };
  const scalar = (): boolean => {
    const c = text[i];
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    number.lastIndex = i;
    const match = number.exec(text);
    if (match === null) return (i += c === '-' ? 1 : 0), false;
    i += match[0].length;
    return true;
  };
  const key = (): boolean => {
    skip();
    if (text[i] !== '"' || !string()) return false;
    skip();
    if (text[i] !== ':') return false;
    i++;
    return true;
  };

  const open: ('{' | '[')[] = [];
  for (;;) {
    // A value is expected at i.
    skip();
    const c = text[i];
    if (c === '{' || c === '[') {
      i++;
      skip();
      if (text[i] === (c === '{' ? '}' : ']')) i++;
      else {
        open.push(c);
        if (c === '{' && !key()) return i;
        continue;
      }
    } else if (!scalar()) return i;
    // After a value: a comma, the end of its container, or the end of the text.
    for (;;) {
      skip();
      const container = open.at(-1);
      if (container === undefined) return i < text.length ? i : -1;
      if (text[i] === ',') {
        i++;
        if (container === '{' && !key()) return i;
        break;
      }
      if (text[i] !== (container === '{' ? '}' : ']')) return i;
      i++;
      open.pop();
    }
  }
}

/** "at position 30 (line 1, column 31)" for an offset into `text`. */
export function describePosition(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let at = text.indexOf('\n'); at !== -1 && at < offset; at = text.indexOf('\n', at + 1)) {
    line++;
    lineStart = at + 1;
  }
  return `at position ${offset} (line ${line}, column ${offset - lineStart + 1})`;
}
