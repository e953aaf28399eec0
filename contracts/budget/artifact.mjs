#!/usr/bin/env node
// The committed creation code of the budget policy (and of the test token the devnet tests
// use), compiled from one source file each with the pinned solc-js and fixed settings, so the
// CREATE2 address through the deterministic deployment proxy is the same in every build and
// on every chain.
//
//   node contracts/budget/artifact.mjs --check   compile and compare with the committed files (exit 1 on a difference)
//   node contracts/budget/artifact.mjs --write   compile and (re)write them
//
// Needs `npm ci --prefix contracts` (solc-js pinned in contracts/package.json).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const TARGETS = [
  { source: 'src/BudgetPolicy.sol', contract: 'BudgetPolicy', out: 'crates/namera/src/policy/budget/BudgetPolicy.initcode.hex' },
  { source: 'src/TestToken.sol', contract: 'TestToken', out: 'crates/namera-e2e/src/TestToken.initcode.hex' },
];
// Must equal foundry.toml's and contracts/build.mjs's settings.
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'cancun',
  viaIR: true,
  metadata: { bytecodeHash: 'none' },
  outputSelection: { '*': { '*': ['evm.bytecode.object'] } },
};

function fail(msg) {
  process.stderr.write(`artifact.mjs: error: ${msg}\n`);
  process.exit(1);
}

const mode = process.argv[2];
if (mode !== '--check' && mode !== '--write') fail('usage: artifact.mjs --check | --write');
const require = createRequire(join(here, '..', 'package.json'));
let solc;
try {
  solc = require('solc');
} catch (e) {
  fail(`cannot load solc-js (${e.message}); run: npm ci --prefix contracts`);
}
const pinned = JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8')).dependencies.solc;
if (!solc.version().startsWith(pinned + '+')) fail(`solc-js ${solc.version()} is not the pinned ${pinned}`);

let differ = 0;
for (const t of TARGETS) {
  const input = { language: 'Solidity', sources: { [t.source]: { content: readFileSync(join(here, t.source), 'utf8') } }, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (output.errors || []).filter((d) => d.severity === 'error');
  if (errors.length) fail(errors.map((d) => d.formattedMessage).join('\n'));
  const code = output.contracts?.[t.source]?.[t.contract]?.evm?.bytecode?.object;
  if (!code) fail(`no bytecode for ${t.contract}`);
  const text = '0x' + code + '\n';
  const path = join(repo, t.out);
  if (mode === '--write') {
    writeFileSync(path + '.tmp', text);
    renameSync(path + '.tmp', path);
    process.stdout.write(`wrote ${t.out} (${code.length / 2} bytes)\n`);
  } else {
    let committed = '';
    try {
      committed = readFileSync(path, 'utf8');
    } catch {}
    if (committed !== text) {
      process.stderr.write(`${t.out} differs from a fresh compile of ${t.source}; run artifact.mjs --write and commit\n`);
      differ++;
    } else process.stdout.write(`${t.out}: matches a fresh compile (${code.length / 2} bytes)\n`);
  }
}
process.exit(differ ? 1 : 0);
