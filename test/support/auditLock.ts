import { existsSync } from 'node:fs';

/**
 * Resolves once a chain's lock file is gone: a writer keeps the lock a moment after its last
 * append (for a next one) and then removes it. Fails with a message if it never goes.
 */
export async function lockReleased(lockPath: string, attempts = 1000): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (!existsSync(lockPath)) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`the audit lock ${lockPath} is still there after the writer went idle: it was never released`);
}
