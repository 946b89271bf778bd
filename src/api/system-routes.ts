// `/_ping`, `/version`, `/info` and `/events`: what every client asks first, and the
// stream of what happens.

import { API_VERSION, type EngineEvent } from '../common/api-types.js';
import type { Engine } from '../engine/engine.js';
import { HttpError, parseFilters, type Router } from './router.js';

export function addSystemRoutes(router: Router, engine: Engine): void {
  const ping = ({ res }: { res: import('node:http').ServerResponse }): undefined => {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'API-Version': API_VERSION, 'OSType': 'linux', 'Docker-Experimental': 'false', 'Cache-Control': 'no-cache, no-store, must-revalidate', 'Pragma': 'no-cache' });
    res.end('OK');
    return undefined;
  };
  router.add('GET', '/_ping', ping);
  router.add('HEAD', '/_ping', ping);
  router.add('GET', '/version', () => engine.version());
  router.add('GET', '/info', () => engine.info());

  router.add('GET', '/events', async ({ query, res, signal }) => {
    const filters = parseFilters(query);
    const since = eventTime(query.get('since'));
    const until = eventTime(query.get('until'));
    const matches = (e: EngineEvent): boolean => [...filters].every(([name, values]) => values.length === 0 || values.some((v) => {
      switch (name) {
        case 'type': return e.Type === v;
        case 'event': return e.Action === v || e.Action.startsWith(`${v}:`);
        case 'container': return e.Type === 'container' && (e.Actor.ID.startsWith(v) || e.Actor.Attributes.name === v);
        case 'image': return e.Actor.Attributes.image === v;
        case 'label': {
          const at = v.indexOf('=');
          return at === -1 ? v in e.Actor.Attributes : e.Actor.Attributes[v.slice(0, at)] === v.slice(at + 1);
        }
        default: throw new HttpError(400, `invalid filter "${name}": use type, event, container, image or label`);
      }
    }));
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const send = (e: EngineEvent): void => {
      if (until !== undefined && e.timeNano > until) return;
      if (matches(e)) res.write(`${JSON.stringify(e)}\n`);
    };
    if (since !== undefined) for (const e of engine.events.since(since)) send(e);
    const unsubscribe = engine.events.subscribe(send);
    await new Promise<void>((resolve) => {
      signal.addEventListener('abort', () => resolve(), { once: true });
      if (until !== undefined) setTimeout(resolve, Math.max(0, until / 1e6 - Date.now())).unref();
    });
    unsubscribe();
    res.end();
    return undefined;
  });
}

/** `since`/`until` of /events: unix seconds (with a fraction) → nanoseconds. */
function eventTime(value: string | null): number | undefined {
  if (value === null || value === '') return undefined;
  const n = Number(value);
  if (Number.isFinite(n)) return Math.round(n * 1e9);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new HttpError(400, `"${value}" is not a time (unix seconds or RFC3339)`);
  return ms * 1e6;
}
