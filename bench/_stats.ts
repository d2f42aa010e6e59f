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

/** A quantile of sorted values, interpolated linearly. */
function quantile(sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}

/**
 * The interquartile range over the median of the finite values, as a
 * fraction: how far the middle half of the rounds lies apart, untouched by
 * the odd round that another process on the machine disturbed.
 */
export function spread(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length < 2) return NaN;
  return (quantile(sorted, 0.75) - quantile(sorted, 0.25)) / median(sorted);
}
