import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import { formatError, LabError } from '../core/errors.js';
import { setQuiet } from '../core/log.js';
import { projectRoot } from '../core/paths.js';
import { registerAnalyze } from './commands/analyze.js';
import { registerBaseline } from './commands/baseline.js';
import { registerBench } from './commands/bench.js';
import { registerCalibrate } from './commands/calibrate.js';
import { registerComment } from './commands/comment.js';
import { registerCompare } from './commands/compare.js';
import { registerDatasets } from './commands/datasets.js';
import { registerDemo } from './commands/demo.js';
import { registerDoctor } from './commands/doctor.js';
import { registerHistory } from './commands/history.js';
import { registerNightly } from './commands/nightly.js';
import { registerPrCheck } from './commands/pr-check.js';
import { registerReport } from './commands/report.js';

/** The version in perf-lab's package.json. */
function labVersion(): string {
  return (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** The commands, in the order `--help` lists them; each file under commands/ registers one (with its subcommands). */
const COMMANDS = [
  registerDatasets,
  registerBench,
  registerDemo,
  registerCalibrate,
  registerBaseline,
  registerCompare,
  registerAnalyze,
  registerComment,
  registerPrCheck,
  registerDoctor,
  registerNightly,
  registerHistory,
  registerReport,
];

export function buildProgram() {
  const program = new Command('perf-lab')
    .description(
      'Benchmarks a Rust deflate decoder against libdeflate: datasets, builds, verified paired timing, ratio reports.',
    )
    .version(labVersion(), '-V, --version', "print perf-lab's version")
    .option('-q, --quiet', 'no progress lines on stderr (warnings and errors still go there)')
    .hook('preAction', (command) => setQuiet(Boolean(command.optsWithGlobals().quiet)))
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(`perf-lab: ${text}`) });
  for (const register of COMMANDS) register(program);
  return program;
}

/**
 * Node decodes arguments as UTF-8 and turns other bytes into U+FFFD, so a path with such bytes would silently name
 * another file (or create a folder with U+FFFD in its name): refused before anything runs.
 */
function refuseNonUtf8Arguments(argv: readonly string[]): void {
  const bad = argv.slice(2).find((arg) => arg.includes('\uFFFD'));
  if (bad === undefined) return;
  throw new LabError(
    'arguments',
    `${JSON.stringify(bad)} holds bytes that are not UTF-8 (shown as \uFFFD): Node.js cannot name such a path ` +
      'exactly, so perf-lab would read or write a different one.',
    'rename the file or folder to UTF-8, or reach it through a UTF-8 symlink.',
  );
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    refuseNonUtf8Arguments(argv);
    await buildProgram().parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    const { text, exitCode } = formatError(error);
    process.stderr.write(`${text}\n`);
    return exitCode;
  }
}
