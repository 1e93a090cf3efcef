import { Prng } from '@unifeed/simulator';

/**
 * The simulator's seeded generator (mulberry32) as a function. The fault plan must be a pure
 * function of the seed, so nothing in it may read Math.random.
 */
export function seededRandom(seed: number): () => number {
  const prng = new Prng(seed);
  return () => prng.next();
}

/** Fisher-Yates with `random`: the same seed, the same order. */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
