// Types for scripts/check-node.mjs, which stays plain JavaScript so an old Node can run it.
/** The one line to print when `version` is older than `range` (package.json's engines.node); undefined when it will do. */
export function nodeProblem(version: string, range?: string): string | undefined;
