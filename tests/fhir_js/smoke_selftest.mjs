#!/usr/bin/env node
// Tests smoke.mjs against mock_server.mjs: it must pass every step on a healthy server and stop
// at the right step with the right reason when the server misbehaves.
//
// Usage: node smoke_selftest.mjs [--shared DIR]   (DIR as for smoke.mjs)
// Prints one line per scenario and `smoke_selftest: N passed, M failed`; exits 1 if any failed.

import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMockServer } from './mock_server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const TOKEN = 'selftest-token';

const SCENARIOS = [
  { name: 'healthy server', faults: [], status: 0, output: /^ok {3}no-token: 401 OperationOutcome$/m },
  { name: 'If-Match ignored', faults: ['ignore-if-match'], status: 1, output: /^FAIL stale-update: a stale If-Match was accepted$/m },
  { name: 'invalid resource read', faults: ['invalid-read'], status: 1, output: /^FAIL read: response body is not valid FHIR R4: schema: .*favouriteColour.* fhirjs: .*Unexpected property/m },
  { name: 'no ledger index', faults: ['no-ledger-index'], status: 1, output: /^FAIL create: X-Medseal-Ledger-Index null/m },
];

function runSmoke(base, shared) {
  const args = [path.join(here, 'smoke.mjs'), '--base', base, '--token', TOKEN, ...(shared ? ['--shared', shared] : [])];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? err.code : 0, output: stdout + stderr });
    });
  });
}

async function main() {
  const sharedAt = process.argv.indexOf('--shared');
  const shared = sharedAt >= 0 ? process.argv[sharedAt + 1] : null;
  let passed = 0;
  let failed = 0;
  for (const scenario of SCENARIOS) {
    const server = await startMockServer({ token: TOKEN, faults: scenario.faults });
    const { status, output } = await runSmoke(server.base, shared);
    await server.close();
    if (status === scenario.status && scenario.output.test(output)) {
      passed++;
      console.log(`ok   ${scenario.name}: exit ${status}`);
    } else {
      failed++;
      console.log(`FAIL ${scenario.name}: exit ${status}, expected ${scenario.status} and ${scenario.output}; smoke said:`);
      console.log(output.replace(/^/gm, '    '));
    }
  }
  console.log(`smoke_selftest: ${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

main();
