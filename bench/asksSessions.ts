/**
 * The replayed sessions of `npm run bench -- asks`: five coding tasks on one small Node
 * project, each the command-and-edit sequence an agent runs for it (explore with ls, grep,
 * cat, sed -n, run the tests, edit several files, delete one, one request to an allowed host
 * and one to a host the policy does not list). Steps are those of the scripted ACP agent
 * test/fixtures/agents/sandbox-agent.mjs: `run` (terminal/create) and `write`
 * (fs/write_text_file). `review` is what the human decides at the end.
 */

export type Step = { run: string } | { write: { path: string; content: string } };

export interface ReplaySession {
  name: string;
  turns: Step[][];
  review: {
    /** Files the reviewer rejects whole. */
    rejectFiles?: string[];
    /** Hunks (by index) the reviewer rejects; the file's other hunks are accepted. */
    rejectHunks?: Array<{ path: string; hunk: number }>;
  };
}

const lines = (prefix: string, n: number): string => Array.from({ length: n }, (_, i) => `// ${prefix} ${i + 1}`).join('\n');

export const PROJECT: Record<string, string> = {
  'package.json': '{\n  "name": "shop",\n  "private": true,\n  "scripts": { "test": "node --test test/" }\n}\n',
  'README.md': '# shop\n\nA tiny cart and pricing library.\n\n## Legacy\n\n`src/legacy/oldTax.js` is kept for old callers.\n',
  'src/pricing.js': `/** Prices in cents. */\nfunction total(items) {\n  return items.reduce((sum, i) => sum + i.price * i.qty, 0) / 100;\n}\n\n${lines('pricing note', 14)}\n\nfunction discount(cents, percent) {\n  return cents - (cents * percent) / 100;\n}\n\nmodule.exports = { total, discount };\n`,
  'src/cart.js': `const { total } = require('./pricing');\n\nfunction addItem(cart, item) {\n  return [...cart, item];\n}\n\n${lines('cart note', 12)}\n\nfunction cartTotal(cart) {\n  return total(cart);\n}\n\nmodule.exports = { addItem, cartTotal };\n`,
  'src/format.js': 'function money(cents) {\n  return `$${(cents / 100).toFixed(2)}`;\n}\n\nmodule.exports = { money };\n',
  'src/legacy/oldTax.js': '// Superseded by pricing.discount; nobody imports this any more.\nmodule.exports = { tax: (x) => x * 1.2 };\n',
  'test/pricing.test.js':
    "const { test } = require('node:test');\nconst assert = require('node:assert/strict');\nconst { total } = require('../src/pricing');\n\ntest('total', () => {\n  assert.equal(total([{ price: 250, qty: 2 }]), 5);\n});\n",
  'test/cart.test.js':
    "const { test } = require('node:test');\nconst assert = require('node:assert/strict');\nconst { addItem } = require('../src/cart');\n\ntest('addItem', () => {\n  assert.equal(addItem([], { price: 1, qty: 1 }).length, 1);\n});\n",
};

const run = (command: string): Step => ({ run: command });
const write = (path: string, content: string): Step => ({ write: { path, content } });
const PROBE = 'node bench-probe.mjs';
/** The allowed host (a loopback server the bench starts) and one the policy does not list. */
export const ALLOWED_URL = (port: number): string => `http://127.0.0.1:${port}/docs/node-test`;
export const UNLISTED_URL = 'http://paste.unlisted.example.test/upload';
const network = (port: number): Step[] => [run(`${PROBE} docs ${ALLOWED_URL(port)}`), run(`${PROBE} paste ${UNLISTED_URL}`)];

const explore: Step[] = [
  run('ls -la'),
  run('ls -R src test'),
  run('cat package.json'),
  run('cat README.md'),
  run('grep -rn "function" src'),
  run('grep -rn "require(" src test'),
  run('sed -n 1,20p src/pricing.js'),
  run('sed -n 1,20p src/cart.js'),
  run('cat test/pricing.test.js'),
  run('node --test test/'),
];

const fixedPricing = PROJECT['src/pricing.js']!.replace(
  'return items.reduce((sum, i) => sum + i.price * i.qty, 0) / 100;',
  'return items.reduce((sum, i) => sum + i.price * i.qty, 0); // cents, as documented',
).replace('return cents - (cents * percent) / 100;', 'return Math.round(cents - (cents * percent) / 100);');

export function sessions(port: number): ReplaySession[] {
  return [
    {
      name: 'fix total() to return cents',
      turns: [
        [
          ...explore,
          run('grep -rn "total(" src test'),
          write('src/pricing.js', fixedPricing),
          write('test/pricing.test.js', PROJECT['test/pricing.test.js']!.replace('qty: 2 }]), 5)', 'qty: 2 }]), 500)')),
          run('node --test test/'),
          run('rm src/legacy/oldTax.js'),
          run('grep -rn "oldTax" . || true'),
          ...network(port),
          run('node --test test/'),
        ],
      ],
      review: {},
    },
    {
      name: 'add a currency option to money()',
      turns: [
        [
          ...explore,
          run('cat src/format.js'),
          run('grep -rn "money" src test || true'),
          write(
            'src/format.js',
            "function money(cents, currency = 'USD') {\n  const symbol = currency === 'EUR' ? '€' : '$';\n  return `${symbol}${(cents / 100).toFixed(2)}`;\n}\n\nmodule.exports = { money };\n",
          ),
          write(
            'test/format.test.js',
            "const { test } = require('node:test');\nconst assert = require('node:assert/strict');\nconst { money } = require('../src/format');\n\ntest('money in euros', () => {\n  assert.equal(money(150, 'EUR'), '€1.50');\n});\n",
          ),
          run('node --test test/'),
          ...network(port),
        ],
        [
          run('sed -n 1,12p README.md'),
          write('README.md', `${PROJECT['README.md']!}\n## Formatting\n\n\`money(cents, currency)\` prints USD or EUR.\n`),
          run('rm src/legacy/oldTax.js'),
          run('ls src src/legacy || true'),
          run('node --test test/'),
        ],
      ],
      review: { rejectFiles: ['README.md'] },
    },
    {
      name: 'rename cartTotal to totalOf across files',
      turns: [
        [
          ...explore,
          run('grep -rn "cartTotal" .'),
          run('sed -i "s/cartTotal/totalOf/g" src/cart.js'),
          run('grep -rn "totalOf" src'),
          write(
            'test/cart.test.js',
            `${PROJECT['test/cart.test.js']!}\ntest('totalOf', () => {\n  const { totalOf } = require('../src/cart');\n  assert.equal(totalOf([{ price: 100, qty: 3 }]), 3);\n});\n`,
          ),
          run('node --test test/'),
          run('rm src/legacy/oldTax.js'),
          ...network(port),
          run('git status 2>/dev/null || echo "no git in the sandbox"'),
          run('node --test test/'),
        ],
      ],
      review: {},
    },
    {
      name: 'remove the legacy module and document it',
      turns: [
        [
          ...explore,
          run('ls -la src/legacy'),
          run('grep -rn "legacy\\|oldTax" . || true'),
          run('cat src/legacy/oldTax.js'),
          run('rm -r src/legacy'),
          write(
            'README.md',
            PROJECT['README.md']!.replace(/\n## Legacy\n[\s\S]*$/, '\n## History\n\nThe legacy tax helper was removed; use `discount`.\n'),
          ),
          write(
            'src/pricing.js',
            PROJECT['src/pricing.js']!.replace(
              '/** Prices in cents. */',
              '/** Prices in cents. `discount` replaces the old tax helper. */',
            ),
          ),
          run('node --test test/'),
          ...network(port),
          run('ls -R src'),
        ],
      ],
      review: {},
    },
    {
      name: 'round discounts and add tests (one hunk rejected)',
      turns: [
        [
          ...explore,
          run('sed -n 18,30p src/pricing.js'),
          run('grep -n "discount" src/pricing.js'),
          write('src/pricing.js', fixedPricing),
          write(
            'test/discount.test.js',
            "const { test } = require('node:test');\nconst assert = require('node:assert/strict');\nconst { discount } = require('../src/pricing');\n\ntest('discount rounds to whole cents', () => {\n  assert.equal(discount(999, 10), 899);\n});\n",
          ),
          run('node --test test/'),
          run('rm src/legacy/oldTax.js'),
          ...network(port),
          run('cat test/discount.test.js'),
          run('node --test test/'),
        ],
      ],
      // The first hunk (total() in cents) is out of scope for this task: the reviewer keeps only the rounding.
      review: { rejectHunks: [{ path: 'src/pricing.js', hunk: 0 }] },
    },
  ];
}
