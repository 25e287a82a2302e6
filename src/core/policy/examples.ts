import type { EffectivePolicy } from './effective';
import { evaluateCommand, evaluatePath, type PolicyVerdict } from './evaluate';
import type { PolicyExample } from './schema';

export interface ExampleResult {
  index: number;
  example: PolicyExample;
  actual: PolicyVerdict;
  pass: boolean;
  /** One line for the Problems panel or the output channel. */
  message: string;
}

/** Checks the policy's own examples (`"examples": [{"command": "git push origin main", "expect": "ask"}]`). */
export function checkExamples(policy: EffectivePolicy, examples: PolicyExample[] = policy.examples): ExampleResult[] {
  return examples.map((example, index) => {
    const actual =
      'command' in example ? evaluateCommand(policy, { commandLine: example.command }) : evaluatePath(policy, example.action, example.path);
    const subject = 'command' in example ? `\`${example.command}\`` : `${example.action} ${example.path}`;
    const pass = actual.decision === example.expect;
    const message = pass
      ? `${subject}: ${actual.decision} as expected (rule ${actual.ruleId})`
      : `Policy example failed: ${subject} is expected to ${example.expect} but the policy says ${actual.decision} (rule ${actual.ruleId}: ${actual.reason})`;
    return { index, example, actual, pass, message };
  });
}
