// Compiles schemas/stack.schema.json into a standalone validator module at build
// time: compiling the schema with ajv at run time costs ~180 ms on every `stack`
// command, loading the generated code costs a few. Then stores V8's code for it, taken
// after validating the examples' stack files so that the functions a stack file
// needs are in it (src/common/cached-commonjs.ts), under the V8 settings of the runs
// that read it (src/cli/short-run.ts). Runs after tsc, whose output it uses.
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { runCommonJsFile } from '../dist/src/common/cached-commonjs.js';
import { VALIDATOR_CODE_CACHE, VALIDATOR_FILE } from '../dist/src/compose/validate.js';
import { useShortRunSettings } from '../dist/src/cli/short-run.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const schema = JSON.parse(readFileSync(join(root, 'schemas/stack.schema.json'), 'utf8'));
const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true, code: { source: true, esm: false },
  // Each $ref as its own function rather than pasted into every user: a third less
  // code to load, which is most of the first validation's cost.
  inlineRefs: false });
const validate = ajv.compile(schema);
mkdirSync(dirname(VALIDATOR_FILE), { recursive: true });
writeFileSync(VALIDATOR_FILE, standaloneCode(ajv, validate));

useShortRunSettings();
const loaded = runCommonJsFile(VALIDATOR_FILE);
const examples = join(root, 'examples');
for (const example of readdirSync(examples)) {
  loaded.exports(parseYaml(readFileSync(join(examples, example, 'compose.yaml'), 'utf8')));
}
writeFileSync(VALIDATOR_CODE_CACHE, loaded.createCachedData());
