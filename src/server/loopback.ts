/** Loopback IP addresses: 127.0.0.0/8, ::1, and IPv4-mapped 127.x (`::ffff:127.0.0.1`). */
import { isIP } from 'node:net';

/** Whether `address` is a loopback IP literal (a name is never: resolve it first). */
export function isLoopbackIp(address: string | undefined): boolean {
  if (address === undefined || isIP(address) === 0) return false;
  const a = address.toLowerCase();
  return a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');
}
