import t from 'tap';
import { interpolateDocument, substitute } from '../../src/compose/interpolate.js';
import { parseStackFile } from '../../src/compose/parse.js';
import { formatProblem } from '../../src/common/errors.js';
import { RESET, isOverride } from '../../src/compose/tags.js';
import { locate } from '../../src/compose/positions.js';

const env = { NAME: 'web', EMPTY: '', PORT: '8080', TAG: '1.2', ON: 'yes', N: '3', MODE: '0440' };
const sub = (s: string, e: Record<string, string | undefined> = env) => {
  const r = substitute(s, (n) => e[n]);
  return r.ok ? r.value : `ERR ${r.message}`;
};

t.test('forms of substitution', async (t) => {
  t.equal(sub('$NAME'), 'web');
  t.equal(sub('${NAME}'), 'web');
  t.equal(sub('pre-${NAME}-post'), 'pre-web-post');
  t.equal(sub('$NAME.$PORT'), 'web.8080');
  t.equal(sub('${MISSING:-dflt}'), 'dflt');
  t.equal(sub('${EMPTY:-dflt}'), 'dflt', ':- also replaces an empty value');
  t.equal(sub('${EMPTY-dflt}'), '', '- keeps an empty value');
  t.equal(sub('${MISSING-dflt}'), 'dflt');
  t.equal(sub('${NAME:+alt}'), 'alt');
  t.equal(sub('${EMPTY:+alt}'), '');
  t.equal(sub('${EMPTY+alt}'), 'alt');
  t.equal(sub('${MISSING+alt}'), '');
  t.equal(sub('$$NAME costs $$5'), '$NAME costs $5');
  t.equal(sub('${A:-${B:-${NAME}}}'), 'web', 'nested defaults');
  t.equal(sub('${A:-x-${PORT}-y}'), 'x-8080-y');
  t.equal(sub('${MISSING:-}'), '');
  t.equal(sub('no variables at all'), 'no variables at all');
});

t.test('required variables and syntax errors', async (t) => {
  t.equal(sub('${MISSING:?set it}'), 'ERR required variable MISSING is missing a value: set it');
  t.equal(sub('${EMPTY:?must not be empty}'), 'ERR required variable EMPTY is missing a value: must not be empty');
  t.equal(sub('${EMPTY?x}'), '', '? without colon accepts an empty value');
  t.equal(sub('${MISSING?}'), 'ERR required variable MISSING is missing a value');
  t.equal(sub('${MISSING:?need ${NAME}}'), 'ERR required variable MISSING is missing a value: need web');
  const bad = 'ERR invalid interpolation format in ';
  t.equal(sub('${FOO'), `${bad}"\${FOO": write variables as $NAME or \${NAME}, and a literal $ as $$`);
  t.ok(sub('${ FOO}').startsWith(bad));
  t.ok(sub('${FOO:x}').startsWith(bad));
  t.ok(sub('${}').startsWith(bad));
  t.ok(sub('echo $1').startsWith(bad), 'a $ before a digit must be escaped, as in Compose');
  t.ok(sub('costs $').startsWith(bad));
});

const load = (yaml: string, e: Record<string, string | undefined> = env) => {
  const parsed = parseStackFile(new TextEncoder().encode(yaml), 'compose.yaml');
  if (parsed.problems.length) throw new Error(parsed.problems.map(formatProblem).join('\n'));
  return interpolateDocument(parsed.value, e);
};

t.test('documents: values not keys, problems with positions, unset warnings once', async (t) => {
  const r = load(['services:', '  ${NAME}:', '    image: "app:${TAG}"', '    environment:', '      A: $MISSING', '      B: ${MISSING}', '    command: ${BAD'].join('\n'));
  const doc = r.value as Record<string, any>;
  t.ok(doc.services['${NAME}'], 'keys are not interpolated');
  t.equal(doc.services['${NAME}'].image, 'app:1.2');
  t.same(r.problems.map(formatProblem), ['compose.yaml:7:14: services["${NAME}"].command: invalid interpolation format in "${BAD": write variables as $NAME or ${NAME}, and a literal $ as $$']);
  t.same(r.warnings.map(formatProblem), ['compose.yaml:5:10: services["${NAME}"].environment.A: the "MISSING" variable is not set. Defaulting to a blank string.']);
});

t.test('typed fields are cast after substitution', async (t) => {
  const r = load([
    'services:',
    '  web:',
    '    image: x',
    '    deploy: { replicas: "${N}" }',
    '    privileged: ${ON}',
    '    tty: "off"',
    '    cpus: "${TAG}"',
    '    ports: [{ target: "${PORT}", published: "${PORT}" }]',
    '    secrets: [{ source: s, mode: "${MODE}" }]',
    '    environment: { COUNT: "${N}" }',
    '    healthcheck: { retries: "many" }',
    'networks:',
    '  n: { external: "true" }',
  ].join('\n'));
  const web = (r.value as Record<string, any>).services.web;
  t.equal(web.deploy.replicas, 3);
  t.equal(web.privileged, true);
  t.equal(web.tty, false);
  t.equal(web.cpus, 1.2);
  t.equal(web.ports[0].target, 8080);
  t.equal(web.ports[0].published, '8080', 'published stays a string');
  t.equal(web.secrets[0].mode, 0o440, 'a leading zero is octal');
  t.equal(web.environment.COUNT, '3', 'environment values stay strings');
  t.equal((r.value as Record<string, any>).networks.n.external, true);
  t.same(r.problems.map(formatProblem), ['compose.yaml:11:29: services.web.healthcheck.retries: must be a whole number, but is "many"']);
});

t.test('merge marks and positions survive', async (t) => {
  const r = load('services:\n  web:\n    ports: !reset []\n    environment: !override\n      A: ${NAME}\n');
  const web = (r.value as Record<string, any>).services.web;
  t.equal(web.ports, RESET);
  t.ok(isOverride(web.environment));
  t.equal(web.environment.A, 'web');
});

t.test('required variables are problems at the value, every one collected', async (t) => {
  const r = load(['services:', '  web:', '    image: ${IMAGE:?set IMAGE in .env}', '    user: ${EMPTY:?}', '    command: ${ALSO_BAD'].join('\n'));
  t.same(r.problems.map(formatProblem), [
    'compose.yaml:3:12: services.web.image: required variable IMAGE is missing a value: set IMAGE in .env',
    'compose.yaml:4:11: services.web.user: required variable EMPTY is missing a value',
    'compose.yaml:5:14: services.web.command: invalid interpolation format in "${ALSO_BAD": write variables as $NAME or ${NAME}, and a literal $ as $$',
  ]);
  t.same(r.warnings, [], 'a failed value warns about nothing');
});

t.test('more typed paths, and values that are already typed are left alone', async (t) => {
  const r = load([
    'services:',
    '  web:',
    '    image: x',
    '    ulimits: { nofile: { soft: "${N}", hard: "20" }, nproc: "${PORT}" }',
    '    depends_on: { db: { condition: service_started, required: "${NO:-false}", restart: "TRUE" } }',
    '    develop: { watch: [{ path: ., action: sync, target: /app, initial_sync: "yes" }] }',
    '    deploy: { replicas: 2, resources: { limits: { cpus: "0.5" } } }',
    '    init: "maybe"',
    '    cpus: "lots"',
    '    labels: { "${N}": "${N}" }',
    'volumes:',
    '  data: { external: "${ON}" }',
    'networks:',
    '  n: { enable_ipv4: "off" }',
  ].join('\n'));
  const doc = r.value as Record<string, any>;
  const web = doc.services.web;
  t.same(web.ulimits, { nofile: { soft: 3, hard: 20 }, nproc: 8080 });
  t.equal(web.depends_on.db.required, false);
  t.equal(web.depends_on.db.restart, true);
  t.equal(web.depends_on.db.condition, 'service_started');
  t.equal(web.develop.watch[0].initial_sync, true);
  t.equal(web.deploy.replicas, 2);
  t.equal(web.deploy.resources.limits.cpus, 0.5);
  t.same(web.labels, { '${N}': '3' }, 'label keys are not interpolated, values stay strings');
  t.equal(doc.volumes.data.external, true);
  t.equal(doc.networks.n.enable_ipv4, false);
  t.same(r.problems.map(formatProblem), [
    'compose.yaml:8:11: services.web.init: must be true or false, but is "maybe"',
    'compose.yaml:9:11: services.web.cpus: must be a number, but is "lots"',
  ]);
});

t.test('unset variables warn once each, with the first place they are used', async (t) => {
  const r = load(['services:', '  a:', '    image: ${X}${Y}', '  b:', '    image: $X-${Z:-set}'].join('\n'), {});
  t.same(r.warnings.map(formatProblem), [
    'compose.yaml:3:12: services.a.image: the "X" variable is not set. Defaulting to a blank string.',
    'compose.yaml:3:12: services.a.image: the "Y" variable is not set. Defaulting to a blank string.',
  ]);
  t.equal((r.value as Record<string, any>).services.b.image, '-set');
});

t.test('the input is left as it was; what did not change is shared', async (t) => {
  const r = parseStackFile(new TextEncoder().encode('services:\n  web:\n    image: app:${TAG}\n    ports: ["80:80"]\n'), 'compose.yaml');
  const doc = r.value as Record<string, any>;
  const out = interpolateDocument(doc, { TAG: '2' }).value as Record<string, any>;
  t.equal(doc.services.web.image, 'app:${TAG}');
  t.equal(out.services.web.image, 'app:2');
  t.not(out.services.web, doc.services.web);
  t.equal(out.services.web.ports, doc.services.web.ports);
  t.same(locate(out, ['services', 'web', 'image']), { file: 'compose.yaml', line: 3, col: 12 });
});
