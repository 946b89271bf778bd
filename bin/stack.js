#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS STACK_HELD_NODE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS} node
import('../dist/src/cli/main.js').then((cli) => cli.runFromProcess());
