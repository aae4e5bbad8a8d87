import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { JsonRpcProvider, Wallet, NonceManager, HDNodeWallet, Mnemonic } from "ethers";
import { startTestChain, targetName } from "../../infra/target.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** Hardhat's well-known development accounts (public test mnemonic), derived m/44'/60'/0'/0/i. */
const DEV_MNEMONIC = Mnemonic.fromPhrase("test test test test test test test test test test test junk");
export function devKey(i: number): string {
  return HDNodeWallet.fromMnemonic(DEV_MNEMONIC, `m/44'/60'/0'/0/${i}`).privateKey;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

export interface LocalChain {
  url: string;
  provider: JsonRpcProvider;
  signer(i: number): NonceManager;
  stop(): Promise<void>;
}

/**
 * Starts `hardhat node` on a free 127.0.0.1 port as a child process; `stop()` kills it by pid. With
 * TONGBAN_TARGET=clique|external, the chain of test/infra/target.ts instead (its dev accounts are Hardhat's).
 */
export async function startHardhatNode(): Promise<LocalChain> {
  if (targetName() !== "hardhat") {
    const t = await startTestChain();
    const provider = new JsonRpcProvider(t.rpcUrls[0], undefined, { cacheTimeout: -1, staticNetwork: true, pollingInterval: 250 });
    const signers = new Map<number, NonceManager>();
    return {
      url: t.rpcUrls[0]!,
      provider,
      signer(i) {
        let s = signers.get(i);
        if (!s) { s = new NonceManager(new Wallet(t.fundedKeys[i]!, provider)); signers.set(i, s); }
        return s;
      },
      async stop() { provider.destroy(); await t.stop(); },
    };
  }
  const port = await freePort();
  const cli = createRequire(import.meta.url).resolve("hardhat/internal/cli/cli.js", { paths: [ROOT] });
  const child: ChildProcess = spawn(process.execPath, [cli, "node", "--port", String(port), "--hostname", "127.0.0.1"], {
    cwd: ROOT, stdio: ["ignore", "pipe", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`hardhat node did not start: ${out.slice(-500)}`)); }, 90_000);
    child.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("Started HTTP")) { clearTimeout(timer); resolve(); }
    });
    child.stderr!.on("data", (d) => { out += d; });
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`hardhat node exited ${code}: ${out.slice(-500)}`)); });
  });
  child.stdout!.resume();
  child.removeAllListeners("exit");
  const url = `http://127.0.0.1:${port}`;
  const provider = new JsonRpcProvider(url, undefined, { cacheTimeout: -1, staticNetwork: true });
  const signers = new Map<number, NonceManager>();
  return {
    url,
    provider,
    signer(i) {
      let s = signers.get(i);
      if (!s) { s = new NonceManager(new Wallet(devKey(i), provider)); signers.set(i, s); }
      return s;
    },
    async stop() {
      provider.destroy();
      if (child.exitCode === null && child.pid !== undefined) {
        const exited = new Promise((r) => child.once("exit", r));
        process.kill(child.pid, "SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, "SIGKILL");
      }
    },
  };
}
