/**
 * What the demo agent does, as pure data: given the instruction and the file it could read,
 * the steps it will propose. Kept apart from the protocol code so it can be unit-tested.
 */

export type DemoStep =
  | { kind: 'edit-with-permission'; path: string; oldText: string | null; newText: string; summary: string }
  | { kind: 'write'; path: string; newText: string; summary: string }
  | { kind: 'command'; command: string; args: string[]; summary: string };

export function planFor(instruction: string, read: { path: string; content: string } | null): DemoStep[] {
  if (read?.path === 'src/greet.js' && /\bturn\b/i.test(instruction)) return turnPlan(read.content);
  if (read?.path === 'src/greet.js' && /\bdocument\b/i.test(instruction)) return documentPlan(read.content);
  if (read?.path === 'src/greet.js') return greetPlan(instruction, read.content);
  return notesPlan(instruction, read);
}

/** The sample workspace: add a farewell() beside greet(), a test for both, and run the tests. */
function greetPlan(instruction: string, content: string): DemoStep[] {
  const newText = addFarewell(content);
  return [
    {
      kind: 'edit-with-permission',
      path: 'src/greet.js',
      oldText: content,
      newText,
      summary: 'Add farewell() to src/greet.js',
    },
    {
      kind: 'write',
      path: 'test/greet.test.js',
      newText: greetTest(instruction),
      summary: 'Create test/greet.test.js',
    },
    { kind: 'command', command: 'node', args: ['--test', 'test/'], summary: 'Run the tests: node --test test/' },
  ];
}

/**
 * "Document the file": one write (no permission request first) that changes two places, a
 * header at the top and a footer at the end, so a long enough file shows two hunks to review.
 */
function documentPlan(content: string): DemoStep[] {
  const header = '// greet.js: the greetings of the Warden demo.\n// Each function returns a string and prints nothing.\n';
  const footer = '\n// End of greet.js.\n';
  return [
    {
      kind: 'write',
      path: 'src/greet.js',
      newText: `${header}${content.replace(/\n*$/, '\n')}${footer}`,
      summary: 'Document src/greet.js (a header and a footer comment)',
    },
  ];
}

/**
 * "…the whole turn": a turn the way an agent works unattended — explore, document greet.js
 * (a header and a footer: two hunks in a long enough file), add two files, look at the result.
 * Under turn review it all lands in the sandbox copy and comes back as one changeset.
 */
function turnPlan(content: string): DemoStep[] {
  const [document] = documentPlan(content);
  return [
    { kind: 'command', command: 'ls', args: ['-la', 'src'], summary: 'Look around: ls -la src' },
    {
      kind: 'command',
      command: 'grep',
      args: ['-n', 'function', 'src/greet.js'],
      summary: 'Find the functions: grep -n function src/greet.js',
    },
    ...(document?.kind === 'write' ? [{ ...document, kind: 'edit-with-permission' as const, oldText: content }] : []),
    {
      kind: 'write',
      path: 'src/farewell.js',
      newText: '/** Says goodbye. */\nfunction farewell(name) {\n  return `Goodbye, ${name}!`;\n}\n\nmodule.exports = { farewell };\n',
      summary: 'Create src/farewell.js',
    },
    {
      kind: 'write',
      path: 'NOTES.md',
      newText: '# Notes\n\nDocumented greet.js and added farewell.js in one turn.\n',
      summary: 'Create NOTES.md',
    },
    { kind: 'command', command: 'cat', args: ['NOTES.md'], summary: 'Check the notes: cat NOTES.md' },
  ];
}

function addFarewell(content: string): string {
  if (content.includes('function farewell')) return content;
  const farewell = [
    '',
    '/** Says goodbye; the counterpart of greet(). */',
    'function farewell(name) {',
    '  return `Goodbye, ${name}!`;',
    '}',
    '',
  ].join('\n');
  const exportLine = /module\.exports\s*=\s*\{([^}]*)\};?/;
  const match = exportLine.exec(content);
  if (!match || match.index === undefined) return `${content.replace(/\n*$/, '\n')}${farewell}\nmodule.exports.farewell = farewell;\n`;
  const names = (match[1] ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const before = content.slice(0, match.index).replace(/\n*$/, '\n');
  const after = content.slice(match.index + match[0].length);
  return `${before}${farewell}\nmodule.exports = { ${[...names, 'farewell'].join(', ')} };${after}`;
}

function greetTest(instruction: string): string {
  return [
    "const { test } = require('node:test');",
    "const assert = require('node:assert/strict');",
    "const { greet, farewell } = require('../src/greet.js');",
    '',
    `// Written by the Warden demo agent for: ${instruction.replace(/\s+/g, ' ').slice(0, 120)}`,
    "test('greet says hello', () => {",
    "  assert.equal(greet('Ada'), 'Hello, Ada!');",
    '});',
    '',
    "test('farewell says goodbye', () => {",
    "  assert.equal(farewell('Ada'), 'Goodbye, Ada!');",
    '});',
    '',
  ].join('\n');
}

/** Any other workspace: note the instruction in the README, add a notes file, list the files. */
function notesPlan(instruction: string, read: { path: string; content: string } | null): DemoStep[] {
  const readme = read?.path === 'README.md' ? read.content : null;
  const section = `\n## Agent notes\n\n- Asked: ${instruction.replace(/\s+/g, ' ')}\n`;
  return [
    {
      kind: 'edit-with-permission',
      path: 'README.md',
      oldText: readme,
      newText: `${(readme ?? '# Project\n').replace(/\n*$/, '\n')}${section}`,
      summary: readme === null ? 'Create README.md' : 'Add an "Agent notes" section to README.md',
    },
    {
      kind: 'write',
      path: 'NOTES.md',
      newText: `# Notes\n\nThe Warden demo agent was asked: ${instruction}\n`,
      summary: 'Create NOTES.md',
    },
    { kind: 'command', command: 'ls', args: ['-la'], summary: 'List the workspace: ls -la' },
  ];
}
