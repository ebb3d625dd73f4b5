import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import { formatError, LabError } from '../core/errors.js';
import { setQuiet } from '../core/log.js';
import { projectRoot } from '../core/paths.js';

/** The version in perf-lab's package.json. */
function labVersion(): string {
  return (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

type Register = (program: Command) => void;

/**
 * The commands, in the order `--help` lists them; each file under commands/ registers one (with its subcommands).
 * Loaded on demand: a run loads only its own command's modules (startup is most of a quick command's time).
 */
const COMMANDS: ReadonlyArray<readonly [string, () => Promise<Register>]> = [
  ['datasets', async () => (await import('./commands/datasets.js')).registerDatasets],
  ['bench', async () => (await import('./commands/bench.js')).registerBench],
  ['demo', async () => (await import('./commands/demo.js')).registerDemo],
  ['calibrate', async () => (await import('./commands/calibrate.js')).registerCalibrate],
  ['baseline', async () => (await import('./commands/baseline.js')).registerBaseline],
  ['compare', async () => (await import('./commands/compare.js')).registerCompare],
  ['analyze', async () => (await import('./commands/analyze.js')).registerAnalyze],
  ['comment', async () => (await import('./commands/comment.js')).registerComment],
  ['pr-check', async () => (await import('./commands/pr-check.js')).registerPrCheck],
  ['doctor', async () => (await import('./commands/doctor.js')).registerDoctor],
  ['nightly', async () => (await import('./commands/nightly.js')).registerNightly],
  ['history', async () => (await import('./commands/history.js')).registerHistory],
  ['report', async () => (await import('./commands/report.js')).registerReport],
];

/**
 * The commands an argument list needs: its own (its first word that is not a global option) when it is one of ours,
 * none for a bare --version, else all (help, and an unknown command's "did you mean").
 */
function commandsFor(argv: readonly string[]): readonly string[] {
  const args = argv.slice(2);
  const word = args.find((arg) => !arg.startsWith('-'));
  if (word !== undefined && COMMANDS.some(([name]) => name === word)) return [word];
  if (
    word === undefined &&
    args.some((arg) => arg === '-V' || arg === '--version') &&
    !args.some((arg) => arg === '-h' || arg === '--help')
  )
    return [];
  return COMMANDS.map(([name]) => name);
}

/** The CLI with the commands named (default: every one; a run needs only its own). */
export async function buildProgram(names: readonly string[] = COMMANDS.map(([name]) => name)) {
  const program = new Command('perf-lab')
    .description(
      'Benchmarks a Rust deflate decoder against libdeflate: datasets, builds, verified paired timing, ratio reports.',
    )
    .version(labVersion(), '-V, --version', "print perf-lab's version")
    .option('-q, --quiet', 'no progress lines on stderr (warnings and errors still go there)')
    .hook('preAction', (command) => setQuiet(Boolean(command.optsWithGlobals().quiet)))
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(`perf-lab: ${text}`) });
  for (const [name, load] of COMMANDS) if (names.includes(name)) (await load())(program);
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
    await (await buildProgram(commandsFor(argv))).parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    const { text, exitCode } = formatError(error);
    process.stderr.write(`${text}\n`);
    return exitCode;
  }
}
