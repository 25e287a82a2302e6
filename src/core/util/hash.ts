import * as crypto from 'node:crypto';

/** One-shot hashing (Node >= 20.12) skips the Hash object: about twice as fast on short inputs. */
const oneShot = typeof crypto.hash === 'function' ? crypto.hash : undefined;

/** Hex SHA-256 of text (UTF-8) or bytes. Used for proposal content hashes and the audit chain. */
export function sha256Hex(data: string | Uint8Array): string {
  return oneShot ? oneShot('sha256', data, 'hex') : crypto.createHash('sha256').update(data).digest('hex');
}
