import { MODEL_PORT } from './harness';

/**
 * How codex-acp is started in the real-agent tests: its model provider is the mock Responses
 * API on the container's loopback; a model whose built-in metadata offers the freeform
 * apply_patch tool; Codex's own bwrap sandbox off (it cannot start inside a container, and
 * Warden's container is the sandbox); and approvals for anything not known to be read-only.
 */
export const CODEX_ACP_COMMAND = [
  'codex-acp',
  '-c model_provider=mock',
  '-c model=gpt-5.3-codex',
  `-c 'model_providers.mock={name="mock",base_url="http://127.0.0.1:${MODEL_PORT}/v1",wire_api="responses",env_key="MOCK_API_KEY"}'`,
  '-c sandbox_mode=danger-full-access',
  '-c approval_policy=untrusted',
].join(' ');

/** src/greet.js in the real-agents fixture workspace. */
export const GREET = "function greet(name) {\n  return 'Hello, ' + name;\n}\n\nmodule.exports = { greet };\n";

/** A Codex patch replacing one line of src/greet.js. */
export const patchGreet = (from: string, to: string): string =>
  ['*** Begin Patch', '*** Update File: src/greet.js', '@@', `-${from}`, `+${to}`, '*** End Patch'].join('\n');
