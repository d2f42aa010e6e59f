/**
 * The few statistics the report uses: medians, and ratios paired by round
 * so that drift between rounds cancels out.
 *
 * @module
 */

/** The median of the finite values, or NaN when there are none. */
export function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * The median over rounds of `samples[r] / baseline[r]`: each round's
 * figure is compared with the baseline measured in the same round.
 */
export function pairedRatio(
  samples: readonly number[],
  baseline: readonly number[],
): number {
  return median(samples.map((value, round) => value / baseline[round]));
}

/** (max - min) / median of the finite values, as a fraction. */
export function spread(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite);
  if (finite.length < 2) return NaN;
  return (Math.max(...finite) - Math.min(...finite)) / median(finite);
}
