// The Go-template subset of `inspect --format`: fields, functions, pipelines, range, and
// values printed as Go prints them; what is not supported is refused, naming it.
import t from 'tap';
import { renderGoTemplate } from '../../src/cli/go-template.js';

const data = {
  Name: '/web',
  State: { Status: 'running', Running: true, Pid: 42 },
  Config: { Env: ['A=1', 'B=2'], Labels: { tier: 'front', 'com.docker.compose.service': 'web' } },
  NetworkSettings: { Networks: { back: { IPAddress: '10.0.1.2' }, front: { IPAddress: '10.0.2.2' } } },
  Nothing: null,
};

t.test('fields, functions and pipelines', async (t) => {
  t.equal(renderGoTemplate('{{.Name}} is {{.State.Status}} (pid {{.State.Pid}})', data), '/web is running (pid 42)');
  t.equal(renderGoTemplate('{{json .Config.Labels}}', data), '{"tier":"front","com.docker.compose.service":"web"}');
  t.equal(renderGoTemplate('{{index .Config.Labels "com.docker.compose.service"}}', data), 'web');
  t.equal(renderGoTemplate('{{index .Config.Env 1}}', data), 'B=2');
  t.equal(renderGoTemplate('{{len .Config.Env}} {{join .Config.Env ","}} {{upper .State.Status}}', data), '2 A=1,B=2 RUNNING');
  t.equal(renderGoTemplate('{{.State.Status | upper}} {{.Config.Env | json}}', data), 'RUNNING ["A=1","B=2"]');
  t.equal(renderGoTemplate('{{.Config.Env}} {{.Config.Labels}}', data), '[A=1 B=2] map[com.docker.compose.service:web tier:front]', 'lists and maps as Go prints them');
  t.equal(renderGoTemplate('{{.Missing}} {{.Nothing}} {{json .Missing}}', data), '<no value> <nil> null');
  t.equal(renderGoTemplate('{{.}}', 'plain'), 'plain');
  t.equal(renderGoTemplate('{{- .Name -}}', data), '/web');
});

t.test('range over maps (sorted keys) and lists, with variables', async (t) => {
  t.equal(renderGoTemplate('{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', data), '10.0.1.2 10.0.2.2 ');
  t.equal(renderGoTemplate('{{range $name, $n := .NetworkSettings.Networks}}{{$name}}={{$n.IPAddress}};{{end}}', data), 'back=10.0.1.2;front=10.0.2.2;');
  t.equal(renderGoTemplate('{{range $e := .Config.Env}}[{{$e}}]{{end}}', data), '[A=1][B=2]');
  t.equal(renderGoTemplate('{{range .Nothing}}x{{end}}', data), '', 'nothing to range over: nothing printed');
});

t.test('what is not supported is refused, naming it', async (t) => {
  t.throws(() => renderGoTemplate('{{if .State.Running}}up{{end}}', data), /\{\{if \.State\.Running\}\} is not supported/);
  t.throws(() => renderGoTemplate('{{printf "%s" .Name}}', data), /unknown function "printf"/);
  t.throws(() => renderGoTemplate('{{range .Config.Env}}x', data), /a \{\{range\}\} has no \{\{end\}\}/);
  t.throws(() => renderGoTemplate('x{{end}}', data), /\{\{end\}\} without a \{\{range\}\}/);
  t.throws(() => renderGoTemplate('{{$nope}}', data), /undefined variable \$nope/);
});
