import { join, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command, type OptionValues } from '@commander-js/extra-typings';
import { SCALES, defaultDatasetsDir, type DatasetName, type Scale } from '../datasets/index.js';
import { FAIL_ON } from '../results/index.js';
import { projectRoot } from '../core/paths.js';
import { parseDatasetList, parsePositiveInt, parseSubjectList, parseTolerance } from './parse.js';

/*
 * The options several commands share, defined once: their flags, help and parsing. A command adds a group with
 * `.addOption(...)` or `withDatasetOptions(...)`, and its action receives them typed.
 */

/** A parser from lab/cli/parse.ts as a commander argument parser: its error becomes commander's usage error. */
function asArgument<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}

const datasetList = asArgument(parseDatasetList);
export const subjectList = asArgument(parseSubjectList);
export const positiveInt = asArgument(parsePositiveInt);

export const scaleOption = () =>
  new Option('--scale <scale>', 'dataset size: quick (16 MiB prefixes) or full (~211 MB)')
    .choices(SCALES)
    .default<Scale>('quick');

export const onlyOption = () =>
  new Option('--only <names>', 'comma-separated subset of silesia,software,logs').argParser(datasetList);

export const offlineOption = (description = 'never download; use the SILESIA stand-in when no zip is at hand') =>
  new Option('--offline', description);

export const silesiaZipOption = (description = 'the Silesia corpus silesia.zip, if datasets must be prepared') =>
  new Option('--silesia-zip <path>', description);

export const cpuOption = (
  description = 'CPU model for the analysis (lab/uarch/models; default: the one chosen for this machine)',
) => new Option('--cpu <model>', description);

export const apiUrlOption = () =>
  new Option('--api-url <url>', 'GitHub REST API root').default(process.env.GITHUB_API_URL);

export const failOnOption = (description: string, fallback: 'regression' | 'never') =>
  new Option('--fail-on <what>', description).choices(FAIL_ON).default(fallback);

export const toleranceOption = () =>
  new Option(
    '--tolerance <change>',
    'head vs base: the change that does not matter ("1.5%" or 0.015); "no change" only inside it (default: the ' +
      "config's bench.tolerance)",
  ).argParser(asArgument(parseTolerance));

/** Where a command writes its results JSON (and, below, its markdown report), beside what it prints. */
/** `--baselines` of compare and baseline update; its default is resolved at run time (no machine path in help). */
export const baselinesOption = () =>
  new Option('--baselines <dir>', 'baseline folder (default: baselines in the perf-lab checkout)');

/** The folder `--baselines` names, else the perf-lab checkout's baselines/. */
export const baselinesDir = (given: string | undefined): string => resolve(given ?? join(projectRoot(), 'baselines'));

export const jsonOption = (description = 'write the results JSON here') => new Option('--json <file>', description);

export const markdownOption = (description = 'write the markdown report here') =>
  new Option('--markdown <file>', description);

/** The datasets a measuring command reads: their scale, folder and subset, and whether it may download. */
export function withDatasetOptions<Args extends unknown[], Opts extends OptionValues, Globals extends OptionValues>(
  command: Command<Args, Opts, Globals>,
  offlineDescription?: string,
) {
  return command
    .addOption(scaleOption())
    .option('--datasets-dir <dir>', 'datasets folder (default: .perf-lab/datasets/<scale>)')
    .addOption(onlyOption())
    .addOption(offlineOption(offlineDescription));
}

/** What the dataset options select: the scale, the folder (absolute), the subset, and whether to stay offline. */
export function datasetSelection(options: {
  scale: Scale;
  datasetsDir?: string;
  only?: DatasetName[];
  offline?: true;
}): { scale: Scale; datasetsDir: string; only?: DatasetName[]; offline?: boolean } {
  return {
    scale: options.scale,
    datasetsDir: resolve(options.datasetsDir ?? defaultDatasetsDir(options.scale)),
    only: options.only,
    offline: options.offline,
  };
}
