import {
  batchInterval,
  cycleRatios,
  decideHeadVsBase,
  pairedSpeedRatios,
  relativeHalfWidth,
  type HeadVsBaseInput,
  type Verdict,
} from '../stats/index.js';

/** Decode times of one batch (one harness run, fresh worker processes), per contender by round. */
export interface BatchSamples {
  samplesNs: Map<string, Map<number, number>>;
  failures: Map<string, string>;
  placement?: string;
}

export interface SamplingPlan {
  /** Without a base: stop once the primary ratio's 95% interval is this tight (relative half-width; 0.005 = ±0.5%). */
  targetHalfWidth: number;
  confidence: number;
  minBatches: number;
  maxBatches: number;
  /** Stop starting batches once this much time has passed (seconds). */
  budgetSeconds: number;
}

export type StopReason = 'verdict decided' | 'target met' | 'time budget' | 'batch limit' | 'contender failed';

/** When sampling a dataset may end early: asked after every batch, obeyed only after whole slot rotations. */
export interface StopRule {
  /** The rotation length (contenders per batch). */
  contenders: number;
  /** Whether the question is answered after these batches, and the primary 95% interval's half-width then. */
  check(batches: readonly BatchSamples[]): { answered: boolean; halfWidth: number | null };
  /** What an answered check is called in the results. */
  answered: 'verdict decided' | 'target met';
}

export interface SamplingOutcome {
  batches: BatchSamples[];
  failures: Map<string, string>;
  /** The stop rule's question was answered (the verdict decided, or the width target met). */
  targetMet: boolean;
  stoppedBecause: StopReason;
  elapsedSeconds: number;
  /** The relative half-width of the primary ratio's reported 95% interval when sampling stopped (null: none yet). */
  finalHalfWidth: number | null;
}

/** Without a base: stop when the primary ratio's reported 95% interval is within ±target (relative). */
export function widthStopRule(
  primary: { numerator: string; denominator: string; contenders: number },
  targetHalfWidth: number,
): StopRule {
  return {
    contenders: primary.contenders,
    answered: 'target met',
    check(batches) {
      const cycles = comparisonCycles(batches, primary.numerator, primary.denominator, primary.contenders);
      const withSamples = cycles.filter((cluster) => cluster.length > 0).length;
      // The very interval the report prints (one estimator for stopping and reporting).
      const halfWidth = withSamples > 0 ? relativeHalfWidth(batchInterval(cycles, 0.95)) : null;
      return { answered: withSamples >= 2 && halfWidth !== null && halfWidth <= targetHalfWidth, halfWidth };
    },
  };
}

/** The three comparisons head vs base is decided on, per batch (see decideHeadVsBase). */
function headVsBaseCycles(
  batches: readonly BatchSamples[],
  names: { head: string; base: string; libdeflate: string },
  contenders: number,
) {
  return {
    headVsBase: comparisonCycles(batches, names.head, names.base, contenders),
    headVsLibdeflate: comparisonCycles(batches, names.head, names.libdeflate, contenders),
    baseVsLibdeflate: comparisonCycles(batches, names.base, names.libdeflate, contenders),
  };
}

/**
 * With a base: stop when the verdict is decided — `decide` is the very function that gives the stored verdict
 * (same interval, same floor), so sampling never ends on a width the verdict does not share.
 */
function verdictStopRule(
  names: { head: string; base: string; libdeflate: string },
  contenders: number,
  decide: (cycles: ReturnType<typeof headVsBaseCycles>, look: 'interim' | 'final') => Verdict,
): StopRule {
  return {
    contenders,
    answered: 'verdict decided',
    check(batches) {
      const cycles = headVsBaseCycles(batches, names, contenders);
      if (cycles.headVsBase.filter((cluster) => cluster.length > 0).length < 2)
        return { answered: false, halfWidth: null };
      const halfWidth = relativeHalfWidth(batchInterval(cycles.headVsBase, 0.95));
      // Decided at the interim look's stricter levels, and the verdict stored at this point says the same.
      const interim = decide(cycles, 'interim').kind;
      return { answered: interim !== 'inconclusive' && decide(cycles, 'final').kind === interim, halfWidth };
    },
  };
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

/** How many times sampling may stop early: after each whole rotation from minBatches to maxBatches. */
export function plannedLooks(plan: Pick<SamplingPlan, 'minBatches' | 'maxBatches'>, contenders: number): number {
  const first = Math.max(contenders, Math.ceil(Math.max(plan.minBatches, 2) / contenders) * contenders);
  return Math.max(1, Math.floor((plan.maxBatches - first) / contenders) + 1);
}

/**
 * One dataset's head-vs-base decision as a PR check makes it: the stop rule sampling obeys and the verdict it
 * stores, from one function (`bench` and the replay simulation both take it from here).
 */
export function headVsBaseDecision(
  names: { head: string; base: string; libdeflate: string },
  contenders: number,
  calibration: HeadVsBaseInput['calibration'],
  policy: Omit<HeadVsBaseInput['policy'], 'interim'>,
  plan: Pick<SamplingPlan, 'minBatches' | 'maxBatches'>,
) {
  const looks = plannedLooks(plan, contenders);
  const decide = (cycles: HeadVsBaseInput['cycles'], notComparable: readonly string[] = [], interim = false) =>
    decideHeadVsBase({
      cycles,
      calibration,
      policy: interim ? { ...policy, interim: { looks } } : policy,
      notComparable,
    });
  return {
    rule: verdictStopRule(names, contenders, (cycles, look) => decide(cycles, [], look === 'interim')),
    verdict: (batches: readonly BatchSamples[], notComparable: readonly string[] = []) =>
      decide(headVsBaseCycles(batches, names, contenders), notComparable),
  };
}

/**
 * Runs batches until the stop rule's question is answered (after whole slot rotations, from minBatches on), the
 * time budget or the batch limit ends, or a contender fails. `runBatch` and `nowSeconds` are injected so simulations
 * replay recorded noise traces through the very same procedure. `earlier` resumes a dataset's sampling.
 */
export async function sampleSequentially(
  runBatch: (index: number, remainingSeconds: number) => Promise<BatchSamples>,
  plan: SamplingPlan,
  rule: StopRule,
  nowSeconds: () => number = () => performance.now() / 1000,
  earlier: readonly BatchSamples[] = [],
): Promise<SamplingOutcome> {
  const started = nowSeconds();
  const batches: BatchSamples[] = [...earlier];
  const failures = new Map<string, string>();
  let finalHalfWidth: number | null = null;
  const finish = (stoppedBecause: StopReason): SamplingOutcome => ({
    batches,
    failures,
    targetMet: stoppedBecause === rule.answered,
    stoppedBecause,
    elapsedSeconds: nowSeconds() - started,
    finalHalfWidth,
  });
  for (;;) {
    const batch = await runBatch(batches.length, plan.budgetSeconds - (nowSeconds() - started));
    batches.push(batch);
    for (const [name, reason] of batch.failures) if (!failures.has(name)) failures.set(name, reason);
    if (failures.size > 0) return finish('contender failed');
    const check = rule.check(batches);
    finalHalfWidth = check.halfWidth;
    // Stopping early only after whole slot rotations keeps every contender equally often in every slot.
    const enough = batches.length >= plan.minBatches && batches.length % rule.contenders === 0;
    if (enough && check.answered) return finish(rule.answered);
    if (batches.length >= plan.maxBatches) return finish('batch limit');
    const elapsed = nowSeconds() - started;
    const perBatch = elapsed / (batches.length - earlier.length);
    if (elapsed + perBatch > plan.budgetSeconds && batches.length >= Math.min(plan.minBatches, 2))
      return finish('time budget');
  }
}
