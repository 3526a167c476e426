// The pieces of the HTTP door, one by one: Host and Origin rules, the owner of a
// loopback connection read from /proc/net/tcp*, the bind check on resolved
// addresses, and route access from route config.
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/log.js';
import { checkBind, type ResolveHost } from '../../src/server/bind-check.js';
import { absoluteFormAuthority, browserRefusal, hostAllowed, originAllowed, splitHostPort } from '../../src/server/host-origin.js';
import { isLoopbackIp } from '../../src/server/loopback.js';
import { accessOf } from '../../src/server/route-access.js';
import { addressKey, clientSocketUid, parseProcNetTcp, SocketOwners } from '../../src/server/socket-owner.js';

describe('Host', () => {
  it('splits host and port, IPv6 in brackets, and refuses what is not a Host', () => {
    expect(splitHostPort('127.0.0.1:8765')).toEqual({ host: '127.0.0.1', port: 8765 });
    expect(splitHostPort('LocalHost')).toEqual({ host: 'localhost', port: null });
    expect(splitHostPort('[::1]:8765')).toEqual({ host: '[::1]', port: 8765 });
    for (const bad of ['', '::1', '[::1', 'a:b:c', 'x:99999', 'x:', 'x:80a']) expect(splitHostPort(bad), bad).toBeNull();
  });

  it('allows IP literals, localhost and listed names — no other name', () => {
    for (const ok of ['127.0.0.1', '198.18.0.2', '[::1]', '[fe80::1]', 'localhost']) expect(hostAllowed(ok, []), ok).toBe(true);
    for (const bad of ['evil.example', 'localhost.', 'sub.localhost', '127.0.0.1.nip.io', '2130706433', '[not-ip]', 'desk.mesh.lan']) expect(hostAllowed(bad, []), bad).toBe(false);
    expect(hostAllowed('desk.mesh.lan', ['desk.mesh.lan'])).toBe(true);
  });

  it('reads the authority of an absolute-form target', () => {
    expect(absoluteFormAuthority('http://evil.example:8765/api/v1/status')).toBe('evil.example:8765');
    expect(absoluteFormAuthority('http://user:pw@127.0.0.1/x')).toBe('127.0.0.1');
    expect(absoluteFormAuthority('/api/v1/status')).toBeNull();
    expect(absoluteFormAuthority('//evil.example/api')).toBeNull();
  });
});

describe('Origin', () => {
  it('accepts the daemon\'s own origin: http:// plus the Host the request was sent to', () => {
    expect(originAllowed('http://127.0.0.1:8765', '127.0.0.1:8765', [])).toBe(true);
    expect(originAllowed('http://localhost:8765', 'localhost:8765', [])).toBe(true);
    expect(originAllowed('http://[::1]:8765', '[::1]:8765', [])).toBe(true);
    expect(originAllowed('http://198.18.0.2:8765', '198.18.0.2:8765', [])).toBe(true);
    expect(originAllowed('http://127.0.0.1', '127.0.0.1:80', [])).toBe(true);
  });

  it('refuses any other origin: other port, other loopback address, https, null, garbage', () => {
    expect(originAllowed('http://127.0.0.1:9999', '127.0.0.1:8765', [])).toBe(false);
    expect(originAllowed('http://127.0.0.2:8765', '127.0.0.1:8765', [])).toBe(false);
    expect(originAllowed('http://localhost:8765', '127.0.0.1:8765', [])).toBe(false);
    expect(originAllowed('https://127.0.0.1:8765', '127.0.0.1:8765', [])).toBe(false);
    expect(originAllowed('null', '127.0.0.1:8765', [])).toBe(false);
    expect(originAllowed('http://127.0.0.1:8765/path', '127.0.0.1:8765', [])).toBe(false);
    expect(originAllowed('not a url', '127.0.0.1:8765', [])).toBe(false);
  });

  it('accepts listed origins', () => {
    expect(originAllowed('https://clare.example.org', 'clare.example.org', ['https://clare.example.org'])).toBe(true);
    expect(originAllowed('HTTPS://Clare.Example.org', '127.0.0.1:8765', ['https://clare.example.org'])).toBe(true);
  });

  it('is checked on writes and upgrades, not on GET/HEAD', () => {
    const req = (method: string, headers: Record<string, string>): Parameters<typeof browserRefusal>[0] => ({ method, url: '/api/v1/tasks', headers: { host: '127.0.0.1:8765', ...headers } });
    const evil = { origin: 'http://evil.example' };
    expect(browserRefusal(req('GET', evil), [], [])).toBeNull();
    expect(browserRefusal(req('HEAD', evil), [], [])).toBeNull();
    for (const m of ['POST', 'PATCH', 'DELETE', 'PUT', 'OPTIONS']) expect(browserRefusal(req(m, evil), [], [])?.code, m).toBe('CLARE_FORBIDDEN');
    expect(browserRefusal(req('GET', { ...evil, upgrade: 'websocket' }), [], [])?.code).toBe('CLARE_FORBIDDEN');
    expect(browserRefusal(req('POST', {}), [], [])).toBeNull(); // programs send no Origin
    expect(browserRefusal(req('POST', { origin: 'http://127.0.0.1:8765' }), [], [])).toBeNull();
    expect(browserRefusal(req('GET', { host: 'evil.example:8765' }), [], [])?.code).toBe('CLARE_FORBIDDEN');
    expect(browserRefusal({ method: 'GET', url: 'http://evil.example/api/v1/tasks', headers: { host: '127.0.0.1' } }, [], [])?.code).toBe('CLARE_FORBIDDEN');
  });
});

describe('route access', () => {
  it('is local unless the route says otherwise', () => {
    expect(accessOf(undefined)).toEqual({ access: 'local' });
    expect(accessOf({})).toEqual({ access: 'local' });
    expect(accessOf({ access: 'bogus' })).toEqual({ access: 'local' });
    expect(accessOf({ access: 'mesh' })).toEqual({ access: 'mesh' });
    expect(accessOf({ access: 'public' })).toEqual({ access: 'public' });
    expect(accessOf({ access: 'local', queryToken: true })).toEqual({ access: 'local', queryToken: true });
  });
});

describe('loopback addresses', () => {
  it('are IP literals in 127/8, ::1 or IPv4-mapped 127/8; names never', () => {
    for (const ok of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect(isLoopbackIp(ok), ok).toBe(true);
    for (const bad of ['127.mesh.lan', 'localhost', '0.0.0.0', '::', '198.18.0.1', '::ffff:198.18.0.1', undefined]) expect(isLoopbackIp(bad), String(bad)).toBe(false);
  });
});

describe('the bind check resolves names', () => {
  const resolver = (table: Record<string, readonly string[]>): ResolveHost => (host) => {
    const a = table[host];
    return a === undefined ? Promise.reject(new Error(`getaddrinfo ENOTFOUND ${host}`)) : Promise.resolve(a);
  };

  it('refuses a name that looks like loopback but resolves elsewhere, without a token', async () => {
    await expect(checkBind('127.mesh.lan', undefined, 'c.toml', resolver({ '127.mesh.lan': ['198.18.0.5'] }))).rejects.toMatchObject({ code: 'CLARE_UNSAFE_BIND', message: expect.stringContaining('127.mesh.lan (198.18.0.5)') });
  });

  it('refuses when any of the addresses is not loopback', async () => {
    await expect(checkBind('desk', undefined, 'c.toml', resolver({ desk: ['127.0.0.1', '198.18.0.5'] }))).rejects.toMatchObject({ code: 'CLARE_UNSAFE_BIND' });
  });

  it('accepts names that resolve to loopback only, loopback literals, and anything with a token', async () => {
    await checkBind('localhost', undefined, 'c.toml', resolver({ localhost: ['127.0.0.1', '::1'] }));
    await checkBind('127.0.0.1', undefined, 'c.toml', resolver({}));
    await checkBind('[::1]', undefined, 'c.toml', resolver({}));
    await checkBind('0.0.0.0', 'a-token-of-sixteen-chars', 'c.toml', resolver({}));
    await expect(checkBind('0.0.0.0', undefined, 'c.toml', resolver({}))).rejects.toMatchObject({ code: 'CLARE_UNSAFE_BIND', message: expect.stringContaining('refusing to listen on 0.0.0.0 without a mesh token') });
    await expect(checkBind('::', undefined, 'c.toml', resolver({}))).rejects.toMatchObject({ code: 'CLARE_UNSAFE_BIND' });
  });

  it('says so when the name does not resolve', async () => {
    await expect(checkBind('nowhere.invalid', undefined, 'c.toml', resolver({}))).rejects.toMatchObject({ code: 'CLARE_CONFIG', message: expect.stringContaining('does not resolve') });
  });
});

describe('the owner of a loopback connection', () => {
  // Rows as the kernel prints them on a little-endian machine.
  const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:223D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 51295 1 0000000000000000 100 0 0 10 0
   1: 0100007F:D508 0100007F:223D 01 00000000:00000000 00:00000000 00000000  1001        0 56201 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:223D 0100007F:D508 01 00000000:00000000 00:00000000 00000000     0        0 56202 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:D50A 0100007F:223D 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000
`;
  const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:C350 00000000000000000000000001000000:223D 01 00000000:00000000 00:00000000 00000000  1002        0 7001 1 0000000000000000 20 4 30 10 -1
   1: 0000000000000000FFFF00000100007F:C351 0000000000000000FFFF00000100007F:223D 01 00000000:00000000 00:00000000 00000000  1003        0 7002 1 0000000000000000 20 4 30 10 -1
`;
  const rows = [...parseProcNetTcp(TCP, true), ...parseProcNetTcp(TCP6, true)];
  const server = { address: '127.0.0.1', port: 0x223d };

  it('canonicalises addresses: IPv4 and IPv4-mapped are one', () => {
    expect(addressKey('127.0.0.1')).toBe(addressKey('::ffff:127.0.0.1'));
    expect(addressKey('::1')).toBe('00000000000000000000000000000001');
    expect(addressKey('fe80::1%lo')).toBe('fe800000000000000000000000000001');
    expect(addressKey('localhost')).toBeNull();
  });

  it('finds the client row by both ends and reads its uid', () => {
    expect(clientSocketUid(rows, { address: '127.0.0.1', port: 0xd508 }, server)).toBe(1001);
    expect(clientSocketUid(rows, { address: '::ffff:127.0.0.1', port: 0xd508 }, { address: '::ffff:127.0.0.1', port: 0x223d })).toBe(1001);
    expect(clientSocketUid(rows, { address: '::1', port: 0xc350 }, { address: '::1', port: 0x223d })).toBe(1002);
    expect(clientSocketUid(rows, { address: '::ffff:127.0.0.1', port: 0xc351 }, { address: '::ffff:127.0.0.1', port: 0x223d })).toBe(1003);
  });

  it('never takes the server\'s own row, a TIME_WAIT row, or a missing one', () => {
    // Asking the wrong way round would find the server row (uid 0): the ends must match exactly.
    expect(clientSocketUid(rows, { address: '127.0.0.1', port: 0x223d }, server)).toBeNull();
    expect(clientSocketUid(rows, { address: '127.0.0.1', port: 0xd50a }, server)).toBeNull();
    expect(clientSocketUid(rows, { address: '127.0.0.1', port: 0x1234 }, server)).toBeNull();
  });

  it('reads big-endian tables too', () => {
    const be = TCP.replace(/0100007F/g, '7F000001');
    expect(clientSocketUid(parseProcNetTcp(be, false), { address: '127.0.0.1', port: 0xd508 }, server)).toBe(1001);
  });

  it('on this machine: a connection of ours is ours; another uid is not; unreadable tables fail closed', async () => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const port = (srv.address() as { port: number }).port;
    const accepted = once(srv, 'connection') as Promise<[Socket]>;
    const client = connect(port, '127.0.0.1');
    const [sock] = await accepted;
    try {
      const uid = process.getuid!();
      expect(await new SocketOwners({ uid, log: silentLogger }).isOwnUser(sock)).toBe(true);
      expect(await new SocketOwners({ uid: uid + 4242, log: silentLogger }).isOwnUser(sock)).toBe(false);
      const broken = new SocketOwners({ uid, log: silentLogger, readTable: () => Promise.reject(Object.assign(new Error('EACCES'), { code: 'EACCES' })) });
      expect(await broken.isOwnUser(sock)).toBe(false);
    } finally {
      client.destroy();
      sock.destroy();
      srv.close();
    }
  });

  it('reads once per connection, the likely table first', async () => {
    const read: string[] = [];
    const owners = (uid: number): SocketOwners => new SocketOwners({ uid, log: silentLogger, littleEndian: true, readTable: (f) => { read.push(f); return Promise.resolve(f.endsWith('6') ? TCP6 : TCP); } });
    const v4 = { remoteAddress: '127.0.0.1', remotePort: 0xd508, localAddress: '127.0.0.1', localPort: 0x223d };
    const o = owners(1001);
    expect(await o.isOwnUser(v4)).toBe(true);
    expect(await o.isOwnUser(v4)).toBe(true);
    expect(read).toEqual(['/proc/net/tcp']);
    read.length = 0;
    expect(await owners(1002).isOwnUser({ remoteAddress: '::1', remotePort: 0xc350, localAddress: '::1', localPort: 0x223d })).toBe(true);
    expect(read).toEqual(['/proc/net/tcp6']);
    read.length = 0;
    // A mapped client that is an IPv6 socket: not in tcp, found in tcp6.
    expect(await owners(1003).isOwnUser({ remoteAddress: '::ffff:127.0.0.1', remotePort: 0xc351, localAddress: '::ffff:127.0.0.1', localPort: 0x223d })).toBe(true);
    expect(read).toEqual(['/proc/net/tcp', '/proc/net/tcp6']);
  });
});
