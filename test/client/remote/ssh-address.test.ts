// ssh:// engine addresses and known_hosts matching, without a network: the forms
// DOCKER_HOST=ssh:// takes, OpenSSH's defaults, and the entries ssh and ssh-keyscan write.
import t from 'tap';
import { createHmac, randomBytes } from 'node:crypto';
import { UsageError } from '../../../src/common/errors.js';
import { checkHostKey, keyFingerprint, keyType, knownHostsName } from '../../../src/client/remote/known-hosts.js';
import { DEFAULT_REMOTE_SOCKET, formatSshAddress, parseSshAddress } from '../../../src/client/remote/ssh-address.js';

t.test('ssh:// addresses: user, host, port and socket, with OpenSSH defaults', async (t) => {
  t.same(parseSshAddress('ssh://build.example', 'me'), { user: 'me', host: 'build.example', port: 22, socket: DEFAULT_REMOTE_SOCKET });
  t.same(parseSshAddress('ssh://root@10.0.0.5:2222', 'me'), { user: 'root', host: '10.0.0.5', port: 2222, socket: DEFAULT_REMOTE_SOCKET });
  t.same(parseSshAddress('ssh://ann@h:22/tmp/e/stack.sock', 'me'), { user: 'ann', host: 'h', port: 22, socket: '/tmp/e/stack.sock' });
  t.same(parseSshAddress('ssh://h/', 'me').socket, DEFAULT_REMOTE_SOCKET);
  t.same(parseSshAddress('ssh://[::1]:2200/s.sock', 'me'), { user: 'me', host: '::1', port: 2200, socket: '/s.sock' });
  t.equal(formatSshAddress(parseSshAddress('ssh://[::1]:2200/s.sock', 'me')), 'ssh://me@[::1]:2200/s.sock');
  t.equal(formatSshAddress(parseSshAddress('ssh://h', 'me')), `ssh://me@h:22${DEFAULT_REMOTE_SOCKET}`);
});

t.test('malformed ssh:// addresses are refused with the form to write', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['ssh://', /no host/],
    ['ssh://@h', /empty user name/],
    ['ssh://h:abc', /port "abc" is not a number from 1 to 65535/],
    ['ssh://h:0', /port "0"/],
    ['ssh://h:70000', /port "70000"/],
    ['ssh://h:', /port ""/],
    ['ssh://h/%zz', /cannot be read/],
    ['tcp://h:2375', /not an ssh:\/\/ address/],
  ];
  for (const [text, why] of cases) {
    const err = (() => {
      try {
        parseSshAddress(text, 'me');
        return undefined;
      } catch (e) {
        return e as Error;
      }
    })();
    t.type(err, UsageError, text);
    t.match(err?.message, why, text);
    t.match(err?.message, `engine host "${text}"`, text);
    t.match(err?.message, 'ssh://[USER@]HOST[:PORT][/PATH/TO/stack.sock]', text);
  }
});

// A key blob as a host presents it: string type, then key material.
function blob(type: string): Buffer {
  const name = Buffer.from(type);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(name.length);
  return Buffer.concat([length, name, randomBytes(32)]);
}

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

t.test('known_hosts: plain, hashed and [host]:port names, wildcards, changed and revoked keys', async (t) => {
  const key = blob('ssh-ed25519');
  const other = blob('ssh-ed25519');
  const rsa = blob('ssh-rsa');
  const b64 = (k: Buffer) => k.toString('base64');
  t.equal(keyType(key), 'ssh-ed25519');
  t.match(keyFingerprint(key), /^SHA256:[A-Za-z0-9+/]{43}$/);
  t.equal(knownHostsName('h', 22), 'h');
  t.equal(knownHostsName('h', 2222), '[h]:2222');

  t.same(checkHostKey('', 'h', 22, key), { kind: 'unknown' });
  t.same(checkHostKey(`# comment\n\nh,10.0.0.5 ssh-ed25519 ${b64(key)} me@there\n`, '10.0.0.5', 22, key), { kind: 'known' });
  t.same(checkHostKey(`[h]:2222 ssh-ed25519 ${b64(key)}\n`, 'h', 2222, key), { kind: 'known' });
  t.same(checkHostKey(`h ssh-ed25519 ${b64(key)}\n`, 'h', 2222, key), { kind: 'unknown' }, 'a port other than 22 is listed as [host]:port');
  t.same(checkHostKey(`${hashed('[h]:2222')} ssh-ed25519 ${b64(key)}\n`, 'h', 2222, key), { kind: 'known' }, 'hashed');
  t.same(checkHostKey(`${hashed('other')} ssh-ed25519 ${b64(key)}\n`, 'h', 22, key), { kind: 'unknown' });
  t.same(checkHostKey(`*.example ssh-ed25519 ${b64(key)}\n`, 'Build.Example', 22, key), { kind: 'known' }, 'wildcard, case-insensitive');
  t.same(checkHostKey(`*.example,!bad.example ssh-ed25519 ${b64(key)}\n`, 'bad.example', 22, key), { kind: 'unknown' }, 'negation');
  t.same(checkHostKey(`h ssh-rsa ${b64(rsa)}\nh ssh-ed25519 ${b64(other)}\n`, 'h', 22, key), { kind: 'changed', line: 2 });
  t.same(checkHostKey(`h ssh-rsa ${b64(rsa)}\n`, 'h', 22, key), { kind: 'unknown' }, 'only a key of another type is listed');
  t.same(checkHostKey(`@revoked * ssh-ed25519 ${b64(key)}\nh ssh-ed25519 ${b64(key)}\n`, 'h', 22, key), { kind: 'revoked', line: 1 });
  t.same(checkHostKey(`@cert-authority * ssh-ed25519 ${b64(key)}\n`, 'h', 22, key), { kind: 'unknown' });
});
