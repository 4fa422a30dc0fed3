// Failover chains of POST_OFFICE_BACKENDS: a backend's `fallback` names the backend that sends its
// emails while it fails (docs/providers.md "Failover"). Checked once every alias is read: each
// fallback must be another configured backend, and following them must end (no cycle).
import { ConfigError } from '../errors.ts';

type Fallbacks = Readonly<Record<string, { fallback?: string }>>;

/** Refuses a fallback that names no backend, the backend itself, or leads back to where it started. */
export function checkFallbacks(backends: Fallbacks, variable: string): void {
  const aliases = Object.keys(backends);
  for (const [alias, { fallback }] of Object.entries(backends)) {
    if (fallback === undefined) continue;
    const name = `${variable}.${alias}.fallback`;
    if (fallback === alias) throw new ConfigError(`${name}: a backend cannot fall back to itself`);
    if (!Object.hasOwn(backends, fallback)) throw new ConfigError(`${name}: no backend "${fallback}" (aliases: ${aliases.join(', ')})`);
    // A cycle is named from the first of its members in the variable's order, so each is reported once.
    const chain = [alias];
    for (let next: string | undefined = fallback; next !== undefined; next = backends[next]?.fallback) {
      if (next === alias) throw new ConfigError(`${name}: cycle ${[...chain, alias].join(' → ')}`);
      if (chain.includes(next)) break; // a cycle further on, without this alias: reported from one of its members
      chain.push(next);
    }
  }
}

/** Every configured (from, to) pair: the failover counter's series exist from the start. */
export function fallbackPairs(backends: Fallbacks): { from: string; to: string }[] {
  return Object.entries(backends).flatMap(([from, { fallback }]) => (fallback === undefined ? [] : [{ from, to: fallback }]));
}
