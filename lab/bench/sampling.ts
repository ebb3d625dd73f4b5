import { batchInterval, cycleRatios, pairedSpeedRatios, relativeHalfWidth } from '../stats/index.js';

/** Decode times of one batch (one harness run, fresh worker processes), per contender by round. */
export interface BatchSamples {
  samplesNs: Map<string, Map<number, number>>;
  failures: Map<string, string>;
  placement?: string;
}

export interface SamplingPlan {
  /** Stop once the primary ratio's interval is this tight (relative half-width; 0.005 = ±0.5%). */
  targetHalfWidth: number;
  confidence: number;
  minBatches: number;
  maxBatches: number;
  /** Stop starting batches once this much time has passed (seconds). */
  budgetSeconds: number;
}

export interface SamplingOutcome {
  batches: BatchSamples[];
  failures: Map<string, string>;
  targetMet: boolean;
  stoppedBecause: 'target met' | 'time budget' | 'batch limit' | 'contender failed';
  elapsedSeconds: number;
  /** The relative half-width of the primary ratio's reported 95% interval when sampling stopped (null: none yet). */
  finalHalfWidth: number | null;
}

/**
 * The worker-slot orders batches cycle through: the `count` cyclic shifts of
 * the config order, then those of the reversed order. Every `count`
 * consecutive batches put each contender in each slot once; every 2 × `count`
 * also balance who runs right after whom. For 2 and 3 contenders these are
 * all the orders there are.
 */
function slotOrders(count: number): number[][] {
  const shifts = (order: number[]) => order.map((_, shift) => order.map((_, slot) => order[(slot + shift) % count]!));
  const forward = Array.from({ length: count }, (_, index) => index);
  const orders = [...shifts(forward), ...shifts([...forward].reverse())];
  return orders.filter((order, index) => orders.findIndex((other) => other.join() === order.join()) === index);
}

/**
 * The order of the contenders in batch `batch`: which one gets worker slot 0,
 * 1, … (and so starts first). A fixed order measured a −0.18% bias against the
 * contender always in slot 0; rotating cancels such fixed-position effects
 * between batches like the round order cancels them inside one. Index i of the
 * returned array is the slot, its value the contender's index in the config.
 */
export function contenderOrder(batch: number, count: number): number[] {
  const orders = slotOrders(count);
  return orders[batch % orders.length]!;
}

/**
 * Per batch, the cycle ratios of numerator speed / denominator speed (see
 * cycleRatios); `contenders` is the rotation length the harness used.
 */
export function comparisonCycles(
  batches: readonly BatchSamples[],
  numerator: string,
  denominator: string,
  contenders: number,
): number[][] {
  return batches.map((batch) => {
    const numeratorNs = batch.samplesNs.get(numerator);
    const denominatorNs = batch.samplesNs.get(denominator);
    if (!numeratorNs || !denominatorNs) return [];
    return cycleRatios(pairedSpeedRatios(numeratorNs, denominatorNs), contenders);
  });
}

/**
 * Runs batches until the primary comparison's interval reaches the target
 * width, the time budget or the batch limit ends, or a contender fails.
 * `runBatch` and `nowSeconds` are injected so simulations can replay recorded
 * noise traces through the very same procedure.
 */
export async function sampleSequentially(
  runBatch: (index: number, remainingSeconds: number) => Promise<BatchSamples>,
  plan: SamplingPlan,
  primary: { numerator: string; denominator: string; contenders: number },
  nowSeconds: () => number = () => performance.now() / 1000,
): Promise<SamplingOutcome> {
  const started = nowSeconds();
  const batches: BatchSamples[] = [];
  const failures = new Map<string, string>();
  let finalHalfWidth: number | null = null;
  const finish = (stoppedBecause: SamplingOutcome['stoppedBecause']): SamplingOutcome => ({
    batches,
    failures,
    targetMet: stoppedBecause === 'target met',
    stoppedBecause,
    elapsedSeconds: nowSeconds() - started,
    finalHalfWidth,
  });
  for (;;) {
    const batch = await runBatch(batches.length, plan.budgetSeconds - (nowSeconds() - started));
    batches.push(batch);
    for (const [name, reason] of batch.failures) if (!failures.has(name)) failures.set(name, reason);
    if (failures.size > 0) return finish('contender failed');
    const cycles = comparisonCycles(batches, primary.numerator, primary.denominator, primary.contenders);
    // The very interval the report prints (one estimator for stopping and reporting).
    const withSamples = cycles.filter((cluster) => cluster.length > 0).length;
    if (withSamples > 0) finalHalfWidth = relativeHalfWidth(batchInterval(cycles, plan.confidence));
    // Stopping early only after whole slot rotations keeps every contender equally often in every slot.
    const enough = batches.length >= plan.minBatches && withSamples >= 2 && batches.length % primary.contenders === 0;
    if (enough && finalHalfWidth !== null && finalHalfWidth <= plan.targetHalfWidth) return finish('target met');
    if (batches.length >= plan.maxBatches) return finish('batch limit');
    const elapsed = nowSeconds() - started;
    const perBatch = elapsed / batches.length;
    if (elapsed + perBatch > plan.budgetSeconds && batches.length >= Math.min(plan.minBatches, 2))
      return finish('time budget');
  }
}
