// What the live display asks of the CLI that runs it. The display never talks to the
// engine: `stack up` gives it these, and their outcome comes back as compose events.

export interface TuiActions {
  restart(service: string): void;
  /** Stop the service's containers when running is true, start them otherwise. */
  toggleRunning(service: string, running: boolean): void;
  /** Build the service's image again and recreate its containers. */
  rebuild(service: string): void;
  /** A shell in the service's container, with the display put aside meanwhile. */
  shell(service: string): void;
  /** Quit and leave the stack running. */
  detach(): void;
  /** Stop the stack gracefully and quit. */
  quit(): void;
  /** Ctrl-C: the first stops gracefully, the next kills. */
  interrupt(): void;
}
