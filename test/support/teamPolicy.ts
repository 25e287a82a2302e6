import { strict as assert } from 'node:assert';
import { loadPolicyText, mergePolicies, type EffectivePolicy, type PolicyInputs } from '../../src/core/policy';

/** A team policy from JSONC text, merged as a session would; fails the test with the problems if it does not load. */
export function teamPolicy(text: string, more: Omit<PolicyInputs, 'team'> = {}): EffectivePolicy {
  const loaded = loadPolicyText(text);
  assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.problems));
  return mergePolicies({ team: { status: 'loaded', policy: loaded.value }, ...more });
}
