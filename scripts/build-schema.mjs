// Compiles schemas/stack.schema.json into a standalone validator module at build
// time: compiling the schema with ajv at run time costs ~180 ms on every `stack`
// command, loading the generated code costs a few.
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const schema = JSON.parse(readFileSync(join(root, 'schemas/stack.schema.json'), 'utf8'));
const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true, code: { source: true, esm: false },
  // Each $ref as its own function rather than pasted into every user: a third less
  // code to load, which is most of the first validation's cost.
  inlineRefs: false });
const validate = ajv.compile(schema);
const out = join(root, 'dist/schemas/stack-validator.cjs');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, standaloneCode(ajv, validate));
