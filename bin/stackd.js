#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=1
import('../dist/src/cli/engine-main.js').then((m) => m.runStackdFromProcess());
