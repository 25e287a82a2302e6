import { createHash } from 'node:crypto';

/** Hex SHA-256 of text (UTF-8) or bytes. Used for proposal content hashes and the audit chain. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
