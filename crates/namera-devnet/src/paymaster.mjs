// Runs @pimlico/mock-paymaster's ERC-7677 server for EntryPoint v0.7 on a namera devnet.
//
// Usage: node paymaster.mjs <anvil-rpc-url> <alto-rpc-url> <port>
//
// The package's own start-up deploys and funds its paymasters for EntryPoint v0.6, v0.7
// and v0.8, and fails on a chain that has only v0.7 (funding the others calls an
// EntryPoint that is not there). So this script places only the v0.7 singleton paymaster,
// with the package's own creation code, signer and deployer keys, and then serves the
// package's own JSON-RPC handler (pm_getPaymasterStubData, pm_getPaymasterData, …) on
// 127.0.0.1:<port>. Written by the devnet next to the installed package and run from there,
// so that `fastify` and `viem` resolve to the installed copies.

import Fastify from "fastify";
import { concat, createPublicClient, createWalletClient, http, parseAbi, parseEther } from "viem";
import { privateKeyToAccount } from "viem/accounts";

const [anvilRpc, altoRpc, portText] = process.argv.slice(2);
if (!anvilRpc || !altoRpc || !portText) {
  console.error("usage: node paymaster.mjs <anvil-rpc-url> <alto-rpc-url> <port>");
  process.exit(2);
}

const pkg = new URL("./node_modules/@pimlico/mock-paymaster/_esm/", import.meta.url);
const { createRpcHandler } = await import(new URL("relay.js", pkg).href);
const { constants, getSingletonPaymaster07Address, getSingletonPaymaster07InitCode } =
  await import(new URL("constants.js", pkg).href);
const { getChain } = await import(new URL("helpers/utils.js", pkg).href);

// The package's fixed test keys (they protect nothing): the paymaster's signer, and the
// wallet that deploys and funds it.
const SIGNER_KEY = `0x${"bb".repeat(32)}`;
const DEPLOYER_KEY = `0x${"aa".repeat(32)}`;
const DEPOSIT = parseEther("50");

const chain = await getChain(anvilRpc);
const publicClient = createPublicClient({ chain, transport: http(anvilRpc), pollingInterval: 100 });
const signer = createWalletClient({ chain, account: privateKeyToAccount(SIGNER_KEY), transport: http(anvilRpc) });
const deployer = createWalletClient({ chain, account: privateKeyToAccount(DEPLOYER_KEY), transport: http(anvilRpc) });

const paymaster = getSingletonPaymaster07Address(signer.account.address);
const abi = parseAbi(["function deposit() payable", "function getDeposit() view returns (uint256)"]);

await publicClient.request({
  method: "anvil_setBalance",
  params: [deployer.account.address, `0x${parseEther("1000").toString(16)}`],
});
if (!(await publicClient.getCode({ address: paymaster }))) {
  const hash = await deployer.sendTransaction({
    to: constants.deterministicDeployer,
    data: concat([constants.create2Salt, getSingletonPaymaster07InitCode(signer.account.address)]),
  });
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success" || !(await publicClient.getCode({ address: paymaster }))) {
    throw new Error(`deploying the v0.7 paymaster at ${paymaster} failed (tx ${hash})`);
  }
}
const deposit = await publicClient.readContract({ address: paymaster, abi, functionName: "getDeposit" });
if (deposit < DEPOSIT) {
  const hash = await deployer.writeContract({ address: paymaster, abi, functionName: "deposit", value: DEPOSIT });
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`funding the paymaster failed (tx ${hash})`);
}

const app = Fastify({});
app.post("/", {}, createRpcHandler({ altoRpc, anvilRpc, paymasterSigner: signer }));
await app.listen({ host: "127.0.0.1", port: Number(portText) });
console.log(`mock paymaster ${paymaster} for EntryPoint v0.7 listening on 127.0.0.1:${portText}`);
