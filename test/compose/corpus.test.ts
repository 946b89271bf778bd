// Every real-world stack file in test/fixtures/corpus must load unchanged, give the
// services its expect.json names, and print the same bytes twice.
import t from 'tap';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { toCanonicalDocument } from '../../src/compose/canonical.js';
import { machineLoaderHost } from '../../src/compose/host.js';
import { loadProject } from '../../src/compose/load.js';
import { toYaml } from '../../src/cli/yaml-output.js';
import { parse as parseYaml } from 'yaml';

const CORPUS = resolve(import.meta.dirname, '../../../test/fixtures/corpus');

interface Expectation {
  services: string[];
  env?: Record<string, string>;
  profiles?: string[];
  files?: string[];
}

const scenarios = readdirSync(CORPUS).filter((d) => existsSync(join(CORPUS, d, 'expect.json'))).sort();

t.ok(scenarios.length >= 25, `at least 25 scenarios (${scenarios.length})`);

for (const scenario of scenarios) {
  t.test(scenario, async (t) => {
    const dir = join(CORPUS, scenario);
    const expect = JSON.parse(readFileSync(join(dir, 'expect.json'), 'utf8')) as Expectation;
    const host = machineLoaderHost(dir, { HOME: '/home/tester', ...expect.env });
    const options = { ...(expect.files ? { files: expect.files } : {}), ...(expect.profiles ? { profiles: expect.profiles } : {}) };
    const first = loadProject(options, host);
    t.same(Object.keys(first.project.services).sort(), [...expect.services].sort(), 'active services');
    const again = loadProject(options, host);
    const canonical = toCanonicalDocument(first.project);
    t.equal(JSON.stringify(toCanonicalDocument(again.project)), JSON.stringify(canonical), 'stable output');
    t.same(parseYaml(toYaml(canonical)), canonical, 'the YAML printed reads back as the same data');
    t.same(parseYaml(toYaml(canonical), { version: '1.1' }), canonical, 'also for a YAML 1.1 reader');
  });
}
