#!/usr/bin/env node
// Compile contracts/src/**/*.sol with the pinned solc-js (standard JSON, optimizer on) and write
//   <out>/artifacts.json  { "<ContractName>": { abi, bytecode, deployedBytecode } }  (contracts in src/*.sol)
//   <out>/source-hash     sha256 over sorted sources + solc version + settings
// Recompiles only when the hash differs from <out>/source-hash (or with --force).
//
// usage: node contracts/build.mjs --out <dir> [--force]
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const srcDir = join(here, 'src');

function fail(msg) {
  process.stderr.write(`build.mjs: error: ${msg}\n`);
  process.exit(1);
}

// ---- arguments
const args = process.argv.slice(2);
let outDir = null;
let force = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--out') outDir = args[++i];
  else if (args[i].startsWith('--out=')) outDir = args[i].slice(6);
  else if (args[i] === '--force') force = true;
  else if (args[i] === '-h' || args[i] === '--help') {
    process.stdout.write('usage: node contracts/build.mjs --out <dir> [--force]\n');
    process.exit(0);
  } else fail(`unknown argument ${JSON.stringify(args[i])}`);
}
if (!outDir) fail('missing --out <dir>');
outDir = resolve(outDir);

// ---- solc (pinned in contracts/package.json, installed under contracts/node_modules)
const require = createRequire(join(here, 'package.json'));
let solc;
try {
  solc = require('solc');
} catch (e) {
  fail(`cannot load solc-js (${e.message}); run: npm ci --prefix ${relative(process.cwd(), here) || '.'}`);
}
const pinned = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8')).dependencies.solc;
const solcVersion = solc.version();
if (!solcVersion.startsWith(pinned + '+')) {
  fail(`solc-js ${solcVersion} is installed but package.json pins ${pinned}; run npm ci in contracts/`);
}

// ---- sources
function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.sol')) out.push(p);
  }
  return out;
}
if (!existsSync(srcDir)) fail(`no source directory ${srcDir}`);
const files = walk(srcDir)
  .map((p) => relative(here, p).split(sep).join('/')) // unit names like "src/lib/SigLib.sol"
  .sort();
if (files.length === 0) fail('no .sol files under contracts/src');
const sources = {};
for (const f of files) sources[f] = { content: readFileSync(join(here, f), 'utf8') };

const settings = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'cancun',
  viaIR: true,
  metadata: { bytecodeHash: 'none' },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
};

// ---- cache
const hasher = createHash('sha256');
for (const f of files) {
  hasher.update(f).update('\0').update(sources[f].content).update('\0');
}
hasher.update(solcVersion).update('\0').update(JSON.stringify(settings));
const hash = hasher.digest('hex');
const hashPath = join(outDir, 'source-hash');
const artifactsPath = join(outDir, 'artifacts.json');
if (!force && existsSync(hashPath) && existsSync(artifactsPath) && readFileSync(hashPath, 'utf8').trim() === hash) {
  process.stdout.write(`build.mjs: up to date (${hash.slice(0, 12)}), ${artifactsPath}\n`);
  process.exit(0);
}

// ---- compile
process.stdout.write(`build.mjs: compiling ${files.length} files with solc ${solcVersion} ...\n`);
const input = { language: 'Solidity', sources, settings };
function findImports(path) {
  // every source is passed in up front; this only serves imports that point elsewhere in contracts/
  const p = resolve(here, path);
  if (!p.startsWith(here + sep) || !existsSync(p)) return { error: `import not found: ${path}` };
  return { contents: readFileSync(p, 'utf8') };
}
let output;
try {
  output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
} catch (e) {
  fail(`solc crashed: ${e.message}`);
}
const diagnostics = output.errors || [];
const errors = diagnostics.filter((d) => d.severity === 'error');
for (const d of diagnostics.filter((d) => d.severity !== 'error')) {
  process.stderr.write(d.formattedMessage || `${d.severity}: ${d.message}\n`);
}
if (errors.length > 0) {
  for (const d of errors) process.stderr.write(d.formattedMessage || `error: ${d.message}\n`);
  fail(`compilation failed with ${errors.length} error(s)`);
}

// ---- artifacts: deployable contracts declared in top-level src/*.sol
const artifacts = {};
for (const f of files) {
  if (f.split('/').length !== 2) continue; // skip src/lib/**
  for (const [name, c] of Object.entries(output.contracts?.[f] || {})) {
    const bytecode = c.evm?.bytecode?.object || '';
    if (!bytecode) continue; // interfaces / abstract contracts
    if (artifacts[name]) fail(`duplicate contract name ${name}`);
    artifacts[name] = {
      abi: c.abi,
      bytecode: '0x' + bytecode,
      deployedBytecode: '0x' + c.evm.deployedBytecode.object,
    };
  }
}
if (Object.keys(artifacts).length === 0) fail('compilation produced no deployable contracts');

mkdirSync(outDir, { recursive: true });
const sorted = Object.fromEntries(Object.keys(artifacts).sort().map((k) => [k, artifacts[k]]));
writeFileSync(artifactsPath + '.tmp', JSON.stringify(sorted, null, 2) + '\n');
renameSync(artifactsPath + '.tmp', artifactsPath);
writeFileSync(hashPath, hash + '\n');
for (const [name, a] of Object.entries(sorted)) {
  process.stdout.write(`  ${name.padEnd(28)} runtime ${(a.deployedBytecode.length - 2) / 2} bytes\n`);
}
process.stdout.write(`build.mjs: wrote ${artifactsPath} (${hash.slice(0, 12)})\n`);
