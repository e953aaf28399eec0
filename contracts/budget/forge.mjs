#!/usr/bin/env node
// Runs forge on this project with nothing but the npm registry:
//   - installs @foundry-rs/forge and solc-js (both pinned) once into the devnet's tool cache,
//     <$NAMERA_DEVNET_HOME | $NAMERA_HOME/devnet | ~/.namera/devnet>/npm/forge-<ver>-solc-<ver>,
//     through a temporary folder renamed into place (interrupted or concurrent installs are safe);
//   - gives forge a "solc" that is solc-js in --standard-json mode (forge cannot download a
//     native solc here), answering --version like the native binary;
//   - runs `forge <args>` in this folder; without arguments (or `ci`) the whole suite.
//
// usage: node contracts/budget/forge.mjs [forge args...]
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FORGE_VERSION = '1.7.1';
const here = dirname(fileURLToPath(import.meta.url));
const SOLC_VERSION = JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8')).dependencies.solc;

function fail(msg) {
  process.stderr.write(`forge.mjs: error: ${msg}\n`);
  process.exit(1);
}

function cacheHome() {
  if (process.env.NAMERA_DEVNET_HOME) return process.env.NAMERA_DEVNET_HOME;
  if (process.env.NAMERA_HOME) return join(process.env.NAMERA_HOME, 'devnet');
  return join(homedir(), '.namera', 'devnet');
}

// The solc stand-in forge runs: `--version`, or standard JSON on stdin → stdout.
const WRAPPER = `#!/usr/bin/env node
const { readFileSync } = require('node:fs');
const solc = require(${JSON.stringify('__SOLC__')});
const args = process.argv.slice(2);
if (args.includes('--version')) {
  process.stdout.write('solc, the solidity compiler commandline interface\\nVersion: ' + solc.version() + '\\n');
  process.exit(0);
}
if (!args.includes('--standard-json')) {
  process.stderr.write('solc-js wrapper: only --version and --standard-json are supported\\n');
  process.exit(1);
}
const input = readFileSync(0, 'utf8');
const findImports = (p) => { try { return { contents: readFileSync(p, 'utf8') }; } catch (e) { return { error: 'not found: ' + p }; } };
process.stdout.write(solc.compile(input, { import: findImports }));
`;

function install() {
  const parent = join(cacheHome(), 'npm');
  const dest = join(parent, `forge-${FORGE_VERSION}-solc-${SOLC_VERSION}`);
  const platform = process.platform === 'darwin' ? 'darwin' : 'linux';
  const forge = join(dest, 'node_modules', '@foundry-rs', `forge-${platform}-${process.arch === 'arm64' ? 'arm64' : 'amd64'}`, 'bin', 'forge');
  const solc = join(dest, 'solc');
  if (existsSync(forge) && existsSync(solc)) return { forge, solc };
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.tmp-forge-${process.pid}-${Date.now()}`);
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'package.json'), '{"name":"namera-forge","private":true}\n');
  process.stderr.write(`forge.mjs: installing @foundry-rs/forge@${FORGE_VERSION} and solc@${SOLC_VERSION} into ${dest}\n`);
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', `@foundry-rs/forge@${FORGE_VERSION}`, `solc@${SOLC_VERSION}`], { cwd: tmp, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    fail(`npm install failed (${r.status ?? r.signal})`);
  }
  const tmpSolc = join(tmp, 'solc');
  writeFileSync(tmpSolc, WRAPPER.replace('__SOLC__', join(dest, 'node_modules', 'solc')));
  chmodSync(tmpSolc, 0o755);
  try {
    renameSync(tmp, dest);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true }); // another process won the race
    if (!existsSync(solc)) fail(`cannot move ${tmp} to ${dest}: ${e.message}`);
  }
  if (!existsSync(forge)) fail(`no forge binary at ${forge} after install`);
  return { forge, solc };
}

const { forge, solc } = install();
const run = (args) =>
  spawnSync(forge, args, {
    cwd: here,
    stdio: 'inherit',
    env: { ...process.env, FOUNDRY_SOLC: solc, FOUNDRY_OFFLINE: 'true' },
  }).status ?? 1;
const args = process.argv.slice(2);
if (args.length === 0 || args[0] === 'ci') {
  // The whole suite. The ERC-7562 trace test records opcode traces, which forge only allows
  // with a tracer (-vvv), so it runs on its own.
  let status = run(['test', '--no-match-contract', 'Erc7562']);
  if (status === 0) status = run(['test', '--match-contract', 'Erc7562', '-vvv']);
  process.exit(status);
}
process.exit(run(args));
