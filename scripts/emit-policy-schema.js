// Emits the JSON schema of .warden/policy.json from the zod schema (the single source of
// truth, src/core/policy/schema.ts): bundles the schema module with esbuild, loads it, and
// writes what `policyJsonSchema()` returns (zod 4's z.toJSONSchema). Used by esbuild.js
// (into dist/policy.schema.json, contributed through jsonValidation) and by the unit test
// that checks the emitted file matches the zod schema.
const esbuild = require('esbuild');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

/** @param {string} outFile where to write the JSON schema */
async function emitPolicySchema(outFile) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-policy-schema-'));
  try {
    const bundle = path.join(work, 'policy-schema.cjs');
    await esbuild.build({
      entryPoints: [path.join(root, 'src/core/policy/schema.ts')],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      logLevel: 'warning',
      mainFields: ['module', 'main'],
    });
    const { policyJsonSchema } = require(bundle);
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    fs.writeFileSync(outFile, `${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

module.exports = { emitPolicySchema };
