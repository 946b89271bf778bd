#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS STACK_HELD_NODE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS} node --max-semi-space-size=1 --v8-pool-size=1 --initial-heap-size=4
import('../dist/src/cli/engine-main.js').then((m) => m.runStackdFromProcess());
