// Stage 10 of loading (see load.ts), and the scheduler `up` and `down` use later: the
// dependency graph of a project's services. Pure: it knows names and references, not
// containers. Cycles are reported deterministically (`dependency cycle: a -> b -> a`,
// starting from the alphabetically first service of the cycle), and traversal runs
// independent services together with a bound on how many at once.

import type { Problem, SourcePosition } from '../common/errors.js';
import { closestName } from './did-you-mean.js';

export type ReferenceKind = 'depends_on' | 'links' | 'network_mode' | 'volumes_from' | 'ipc' | 'pid';

/** One service's use of another. */
export interface ServiceReference {
  service: string;
  kind: ReferenceKind;
  /** Where it is written, as a dotted path, e.g. `services.web.depends_on`. */
  path: string;
  position?: SourcePosition;
  /** `required: false` dependencies on services that do not exist are dropped quietly. */
  required: boolean;
}

export type GraphInput = Record<string, readonly ServiceReference[]>;

export type Direction = 'forward' | 'reverse';

export interface VisitOptions {
  /** How many visitors may run at once; at least 1. */
  concurrency?: number;
  /** Restrict to these services (forward: with everything they depend on). */
  only?: readonly string[];
}

export class ServiceGraph {
  private readonly deps = new Map<string, Set<string>>();
  private readonly dependents = new Map<string, Set<string>>();

  constructor(services: readonly string[], edges: ReadonlyArray<[from: string, to: string]>) {
    for (const s of services) {
      this.deps.set(s, new Set());
      this.dependents.set(s, new Set());
    }
    for (const [from, to] of edges) {
      if (from === to) continue;
      this.deps.get(from)?.add(to);
      this.dependents.get(to)?.add(from);
    }
  }

  get services(): string[] {
    return [...this.deps.keys()].sort();
  }

  /** What `name` needs started first, sorted. */
  dependenciesOf(name: string): string[] {
    return [...(this.deps.get(name) ?? [])].sort();
  }

  /** What needs `name`, sorted. */
  dependentsOf(name: string): string[] {
    return [...(this.dependents.get(name) ?? [])].sort();
  }

  /** `names` and everything they depend on, transitively. */
  withDependencies(names: readonly string[]): string[] {
    const seen = new Set<string>();
    const stack = [...names];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (seen.has(n) || !this.deps.has(n)) continue;
      seen.add(n);
      stack.push(...this.deps.get(n)!);
    }
    return [...seen].sort();
  }

  /** Dependencies before dependents; among services ready together, alphabetical. */
  topologicalOrder(): string[] {
    const remaining = new Map([...this.deps].map(([n, d]) => [n, d.size]));
    const order: string[] = [];
    let ready = [...remaining].filter(([, n]) => n === 0).map(([s]) => s).sort();
    while (ready.length > 0) {
      const next = ready.shift()!;
      order.push(next);
      for (const d of this.dependents.get(next) ?? []) {
        const left = remaining.get(d)! - 1;
        remaining.set(d, left);
        if (left === 0) ready = [...ready, d].sort();
      }
    }
    return order;
  }

  /**
   * Run `visit` for each service: forward, only after all its dependencies finished;
   * reverse, only after all its dependents finished. A failure stops new visits; the
   * promise rejects with the first error once the visits in flight have settled.
   */
  async visit(direction: Direction, visit: (name: string) => Promise<void>, options: VisitOptions = {}): Promise<void> {
    const concurrency = Math.max(1, options.concurrency ?? Infinity);
    const selected = new Set(
      options.only ? (direction === 'forward' ? this.withDependencies(options.only) : options.only.filter((n) => this.deps.has(n))) : this.deps.keys(),
    );
    const before = direction === 'forward' ? this.deps : this.dependents;
    const after = direction === 'forward' ? this.dependents : this.deps;
    const waitingOn = new Map<string, number>();
    for (const n of selected) waitingOn.set(n, [...before.get(n)!].filter((m) => selected.has(m)).length);

    const ready = [...waitingOn].filter(([, c]) => c === 0).map(([n]) => n).sort();
    let running = 0;
    let failure: { error: unknown } | undefined;
    let finished = 0;

    await new Promise<void>((resolve, reject) => {
      const settleIfDone = (): void => {
        if (running > 0) return;
        if (failure) reject(failure.error);
        else if (finished === selected.size || ready.length === 0) resolve();
      };
      const pump = (): void => {
        while (!failure && running < concurrency && ready.length > 0) {
          const name = ready.shift()!;
          running++;
          // A visitor that throws before returning its promise fails like one that rejects.
          let visiting: Promise<void>;
          try {
            visiting = visit(name);
          } catch (error) {
            visiting = Promise.reject(error);
          }
          visiting.then(
            () => {
              running--;
              finished++;
              for (const next of after.get(name)!) {
                if (!selected.has(next)) continue;
                const left = waitingOn.get(next)! - 1;
                waitingOn.set(next, left);
                if (left === 0) {
                  ready.push(next);
                  ready.sort();
                }
              }
              pump();
              settleIfDone();
            },
            (error: unknown) => {
              running--;
              failure ??= { error };
              settleIfDone();
            },
          );
        }
        settleIfDone();
      };
      pump();
    });
  }
}

/** Build the graph, reporting references to missing services and every cycle once. */
export function buildServiceGraph(input: GraphInput): { graph: ServiceGraph; problems: Problem[] } {
  const problems: Problem[] = [];
  const names = Object.keys(input).sort();
  const known = new Set(names);
  const edges: Array<[string, string]> = [];
  const edgePosition = new Map<string, ServiceReference>();

  for (const name of names) {
    for (const ref of input[name]!) {
      if (!known.has(ref.service)) {
        if (!ref.required) continue;
        const close = closestName(ref.service, names.filter((n) => n !== name));
        problems.push({
          path: ref.path,
          message: `service "${ref.service}" is not defined${ref.kind === 'depends_on' ? '' : ` (used by ${ref.kind})`}`,
          ...(ref.position ? { position: ref.position } : {}),
          ...(close ? { hint: `did you mean "${close}"?` } : {}),
        });
        continue;
      }
      if (ref.service === name) {
        problems.push({
          path: ref.path,
          message: `service "${name}" depends on itself: remove that reference`,
          ...(ref.position ? { position: ref.position } : {}),
        });
        continue;
      }
      edges.push([name, ref.service]);
      const key = `${name}\0${ref.service}`;
      if (!edgePosition.has(key)) edgePosition.set(key, ref);
    }
  }

  const graph = new ServiceGraph(names, edges);
  for (const cycle of findCycles(graph)) {
    const first = edgePosition.get(`${cycle[0]}\0${cycle[1]}`);
    problems.push({
      path: first?.path ?? `services.${cycle[0]}`,
      message: `dependency cycle: ${cycle.join(' -> ')}`,
      ...(first?.position ? { position: first.position } : {}),
    });
  }
  return { graph, problems };
}

/** Each elementary cycle found by a sorted depth-first search, once, rotated to start at its smallest name. */
function findCycles(graph: ServiceGraph): string[][] {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const found = new Map<string, string[]>();

  const dfs = (n: string): void => {
    state.set(n, 'visiting');
    stack.push(n);
    for (const d of graph.dependenciesOf(n)) {
      const s = state.get(d);
      if (s === 'visiting') {
        const loop = stack.slice(stack.indexOf(d));
        const start = loop.indexOf([...loop].sort()[0]!);
        const rotated = [...loop.slice(start), ...loop.slice(0, start)];
        const key = rotated.join('\0');
        if (!found.has(key)) found.set(key, [...rotated, rotated[0]!]);
      } else if (s === undefined) {
        dfs(d);
      }
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of graph.services) if (!state.has(n)) dfs(n);
  return [...found.values()].sort((a, b) => (a.join(' ') < b.join(' ') ? -1 : 1));
}
