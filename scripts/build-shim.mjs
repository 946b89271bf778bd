#!/usr/bin/env node
// Compiles the runtime's native shim (src/runtime/shim/*.c) with the machine's C
// compiler into dist/runtime/stack-shim. Built from source at install time on purpose:
// no prebuilt binaries ship with stack.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = join(root, 'src/runtime/shim');
const output = join(root, 'dist/runtime/stack-shim');
const compiler = process.env.CC || 'cc';

function die(message) {
  process.stderr.write(`build-shim: ${message}\n`);
  process.exit(1);
}

const probe = spawnSync(compiler, ['--version'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) {
  die(`no C compiler: \`${compiler} --version\` failed (${probe.error?.message ?? `exit ${probe.status}`}). ` +
    'Install one (Debian: apt-get install gcc libc6-dev) or set CC.');
}
if (!existsSync('/usr/include/cjson/cJSON.h')) {
  die('cJSON headers are missing (/usr/include/cjson/cJSON.h). Install them: apt-get install libcjson-dev');
}

const sources = readdirSync(sourceDir).filter((f) => f.endsWith('.c')).sort().map((f) => join(sourceDir, f));
mkdirSync(dirname(output), { recursive: true });
const args = ['-O2', '-Wall', '-Wextra', '-Werror', '-D_GNU_SOURCE', '-o', output, ...sources, '-lcjson'];
const build = spawnSync(compiler, args, { stdio: 'inherit' });
if (build.error || build.status !== 0) {
  die(`${compiler} ${args.join(' ')} failed${build.error ? `: ${build.error.message}` : ''}`);
}
process.stdout.write(`build-shim: ${output}\n`);
