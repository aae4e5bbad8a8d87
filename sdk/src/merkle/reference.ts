/**
 * A deliberately plain reference implementation of THE TREE (IMaterialRegistry.sol), used to generate
 * test/vectors/merkle.json and to check the fast tree in tests. Hex strings and ethers keccak256 throughout.
 */
import { keccak256, concat } from "ethers";

/**
 * Commutative keccak256 of the sorted pair, on lower-case hex.
 * @example referenceHashPair(a, b) === hashPair(a, b)
 */
export function referenceHashPair(a: string, b: string): string {
  const [x, y] = a.toLowerCase() <= b.toLowerCase() ? [a, b] : [b, a];
  return keccak256(concat([x, y]));
}

/**
 * Root and every proof of `leaves` by the plain level-by-level rule.
 * @example referenceMerkle(leaves).root === buildMerkleTree(leaves).root
 */
export function referenceMerkle(leaves: readonly string[]): { root: string; proofs: string[][] } {
  if (leaves.length === 0) throw new Error("empty");
  const levels: string[][] = [leaves.map((l) => l.toLowerCase())];
  while (levels[levels.length - 1]!.length > 1) {
    const cur = levels[levels.length - 1]!;
    const next: string[] = [];
    for (let i = 0; i < cur.length; i += 2) {
      next.push(i + 1 < cur.length ? referenceHashPair(cur[i]!, cur[i + 1]!) : cur[i]!);
    }
    levels.push(next);
  }
  const proofs = leaves.map((_, index) => {
    const proof: string[] = [];
    let i = index;
    for (let l = 0; l < levels.length - 1; l++) {
      const s = i % 2 === 0 ? i + 1 : i - 1;
      if (s < levels[l]!.length) proof.push(levels[l]![s]!);
      i = Math.floor(i / 2);
    }
    return proof;
  });
  return { root: levels[levels.length - 1]![0]!, proofs };
}
