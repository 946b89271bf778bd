// NODE_EXTRA_CA_CERTS held back from Node's start. Node 20 loads that file while starting,
// before any script runs (~80 ms and ~1.5 MB here). The CLI makes no TLS connection and the
// engine trusts the file itself at its first one (src/image/registry/extra-ca.ts), so both
// start without it: the launchers' shebangs (bin/stack.js, bin/stackd.js) and the CLI's
// engine autostart move it aside into STACK_HELD_NODE_EXTRA_CA_CERTS, and the process puts
// it back, so what it starts (and the engine's registry client) gets it as the user set it.

const HELD = 'STACK_HELD_NODE_EXTRA_CA_CERTS';

/** Puts a held NODE_EXTRA_CA_CERTS back into `env` (a launcher passes an empty value when there was none). */
export function restoreHeldCaCertificates(env: NodeJS.ProcessEnv): void {
  const held = env[HELD];
  if (held === undefined) return;
  delete env[HELD];
  if (held !== '' && env.NODE_EXTRA_CA_CERTS === undefined) env.NODE_EXTRA_CA_CERTS = held;
}

/** The environment to start a Node process with that must not load NODE_EXTRA_CA_CERTS at start and restores it. */
export function holdCaCertificates(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.NODE_EXTRA_CA_CERTS === undefined) return env;
  const { NODE_EXTRA_CA_CERTS: held, ...rest } = env;
  return { ...rest, [HELD]: held };
}
