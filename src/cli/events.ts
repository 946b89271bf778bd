// `stack events [SERVICE...]`: the engine's container events of the project, as `docker
// compose events` prints them (`2026-11-29 07:12:02.123456 container start <id> (image=...,
// name=..., service=...)`, or one JSON object a line with --json), until Ctrl-C.

import type { Argv, CommandModule } from 'yargs';
import type { EngineEvent } from '../common/api-types.js';
import { LABEL } from '../compose/labels.js';
import { engineClient } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import { interruption, type CliIO } from './io.js';
import { findProjectScope, noProject, requireServices } from './project-scope.js';

interface EventsArgs extends GlobalArgs {
  services?: string[] | undefined;
  json: boolean;
  since?: string | undefined;
  until?: string | undefined;
}

export function eventsCommand(io: CliIO): CommandModule<GlobalArgs, EventsArgs> {
  return {
    command: 'events [services..]',
    describe: 'Print the container events of the project\'s services (default: all) until Ctrl-C',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('services', { type: 'string', array: true })
        .option('json', { type: 'boolean', default: false, description: 'One JSON object a line' })
        .option('since', { type: 'string', description: 'Also the events since this time (unix seconds or RFC3339)' })
        .option('until', { type: 'string', description: 'Stop at this time' }) as unknown as Argv<EventsArgs>,
    handler: async (args) => {
      const client = await engineClient(io);
      const scope = await findProjectScope(args, io, client);
      if (!scope) throw noProject('events shows the project\'s containers');
      const services = args.services ?? [];
      requireServices(scope, services);
      const { streamEvents } = await import('../client/event-stream.js');
      const stop = interruption(io);
      try {
        await streamEvents(client, {
          filters: { type: ['container'], label: [`${LABEL.project}=${scope.name}`] },
          signal: stop.signal,
          ...(args.since !== undefined ? { since: args.since } : {}),
          ...(args.until !== undefined ? { until: args.until } : {}),
        }, (event) => {
          const service = event.Actor.Attributes[LABEL.service] ?? '';
          if (services.length > 0 && !services.includes(service)) return;
          io.stdout.write(`${args.json ? JSON.stringify(composeEventJson(event)) : composeEventLine(event)}\n`);
        });
      } finally {
        stop.dispose();
      }
    },
  };
}

/** The attributes Compose shows: the engine's, without Compose's own labels, plus the service. */
function attributesOf(event: EngineEvent): Record<string, string> {
  const shown = Object.entries(event.Actor.Attributes).filter(([k]) => !k.startsWith('com.docker.compose.'));
  return Object.fromEntries([...shown, ['service', event.Actor.Attributes[LABEL.service] ?? '']].sort(([a], [b]) => (a! < b! ? -1 : 1)));
}

export function composeEventLine(event: EngineEvent): string {
  const attributes = Object.entries(attributesOf(event)).map(([k, v]) => `${k}=${v}`).join(', ');
  return `${eventTimestamp(event.timeNano)} container ${event.Action} ${event.Actor.ID} (${attributes})`;
}

export function composeEventJson(event: EngineEvent): Record<string, unknown> {
  return {
    time: new Date(Math.floor(event.timeNano / 1e6)).toISOString(),
    type: 'container',
    action: event.Action,
    id: event.Actor.ID,
    service: event.Actor.Attributes[LABEL.service] ?? '',
    attributes: attributesOf(event),
  };
}

/** Compose's `2006-01-02 15:04:05.000000`, in UTC. */
function eventTimestamp(timeNano: number): string {
  const iso = new Date(Math.floor(timeNano / 1e6)).toISOString();
  const micros = String(Math.floor(timeNano / 1e3) % 1_000_000).padStart(6, '0');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${micros}`;
}
