#!/usr/bin/env node
import('../dist/src/cli/engine-main.js').then((m) => m.runStackdFromProcess());
