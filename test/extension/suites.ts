/**
 * Every extension-host suite, imported statically so esbuild bundles it into
 * out/test/extension/index.js (there is no file discovery inside the bundle).
 * Add each new `test/extension/*.test.ts` here: scripts/run-extension-tests.ts fails
 * when one is missing.
 */
import './smoke.test';
import './session.test';
import './audit.test';
import './policy.test';
import './git.test';
import './inlineReview.test';
import './killSwitch.test';
import './agentSecrets.test';
import './agentSetup.test';
import './turnReview.test';
import './teamAudit.test';
import './auditBlame.test';
import './sessionBranchPrompts.test';
