import { armParts, midrText, type ArmParts, type Midr } from '../cpu/midr.js';
import { listModels, loadCpuModel, type CpuModel } from './model.js';
import { buildTarget } from '../build/target.js';

/** The model the analysis uses when no model names the machine's CPU and no fallback applies. */
const DEFAULT_MODEL = 'apple-m1';

/** The machine facts a model is chosen by (a results file's `machine`, or this host's). */
export interface MachineCpu {
  os: string;
  arch: string;
  cpuModel: string;
  midr?: Midr;
}

/**
 * Which CPU model prices a machine's code, and why, in words: the model whose cpuBrands the machine's CPU name
 * contains (the longest such brand; Apple M-series by brand string, Neoverse by the MIDR name machineInfo records),
 * else the MIDR implementer's fallback (lab/cpu/arm-parts.json), else the default. Cross-check models are never chosen.
 */
export function chooseModel(
  machine: MachineCpu,
  models: ReadonlyArray<Pick<CpuModel, 'name' | 'cpuBrands' | 'crossCheck'>>,
  parts: ArmParts = armParts(),
): { name: string; why: string } {
  const midr = machine.midr ? ` (MIDR ${midrText(machine.midr)})` : '';
  const matches = models
    .filter((model) => !model.crossCheck)
    .flatMap((model) =>
      model.cpuBrands.filter((brand) => machine.cpuModel.includes(brand)).map((brand) => ({ model, brand })),
    )
    .sort((a, b) => b.brand.length - a.brand.length);
  if (matches[0])
    return { name: matches[0].model.name, why: `chosen for this machine's CPU, ${machine.cpuModel}${midr}` };
  const implementer =
    machine.midr && parts.implementers.find((entry) => entry.implementer === machine.midr!.implementer);
  if (implementer?.fallbackModel && models.some((model) => model.name === implementer.fallbackModel)) {
    return {
      name: implementer.fallbackModel,
      why:
        `no model for ${machine.cpuModel}${midr}: ${implementer.fallbackModel} is used because ` +
        `${implementer.fallbackWhy ?? `it is the fallback for ${implementer.name} cores`}; its numbers are not ` +
        `sourced for this core`,
    };
  }
  return {
    name: DEFAULT_MODEL,
    why:
      `no model names this machine's CPU (${machine.cpuModel}, ${machine.os} ${machine.arch}${midr}): ` +
      `${DEFAULT_MODEL}, the default, is used; analyze's and pr-check's --cpu choose another`,
  };
}

/**
 * The model named by --cpu, else the build target's (PERF_LAB_TARGET, lab/build/target.ts), else the one chosen for
 * the machine; `chosenBecause` says which and why.
 */
export async function resolveCpuModel(explicit: string | undefined, machine: () => MachineCpu): Promise<CpuModel> {
  if (explicit) return { ...(await loadCpuModel(explicit)), chosenBecause: 'chosen by --cpu' };
  // Built for a cross target and run under its exec wrapper: no machine of it was seen, its runner class decides.
  const target = buildTarget().model;
  if (target) return { ...(await loadCpuModel(target.name)), chosenBecause: target.why };
  const models = await Promise.all((await listModels()).map((name) => loadCpuModel(name)));
  const choice = chooseModel(machine(), models);
  return { ...models.find((model) => model.name === choice.name)!, chosenBecause: choice.why };
}
