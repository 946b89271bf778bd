// The engine connections one command line opens, shared by everything it runs (one SSH
// connection to a remote engine, however many requests), and closed when it ends so the
// process exits at once (main.ts).

import type { ApiClient } from '../client/api-client.js';

export class EngineConnections {
  private readonly clients = new Map<string, Promise<ApiClient>>();

  /** The client for `address`, opened by `open` the first time. */
  reuse(address: string, open: () => Promise<ApiClient>): Promise<ApiClient> {
    let client = this.clients.get(address);
    if (!client) {
      client = open();
      this.clients.set(address, client);
    }
    return client;
  }

  closeAll(): void {
    for (const client of this.clients.values()) void client.then((c) => c.transport.close(), () => {});
    this.clients.clear();
  }
}
