/**
 * The policy "Warden: Test Policy" offers to create when a folder has none: Warden's defaults
 * written out (so the team sees and can change them), one rule of each kind, and examples that
 * pass, so the first test run shows how examples work. JSONC: comments are allowed.
 */
export const STARTER_POLICY = `{
  "version": 1,
  // What happens when no rule matches. Commands run inside the sandbox; file changes coming out ask.
  "defaults": { "read": "allow", "write": "ask", "command": "allow" },
  "paths": [
    { "id": "secrets", "paths": [".env", ".env.*", "**/*.pem"], "actions": ["read", "write", "create", "delete"], "decision": "deny", "reason": "Secrets stay out of the sandbox" }
  ],
  "commands": [
    { "id": "publish", "match": "npm publish *", "decision": "ask", "reason": "Publishing leaves the machine" }
  ],
  // Checked on save and by "Warden: Test Policy": each says what the policy must decide.
  "examples": [
    { "command": "npm test", "expect": "allow" },
    { "command": "npm publish --access public", "expect": "ask" },
    { "path": ".env", "action": "read", "expect": "deny" },
    { "path": "src/index.js", "action": "write", "expect": "ask" }
  ]
}
`;
