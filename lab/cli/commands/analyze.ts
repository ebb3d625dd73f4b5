import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { defaultDatasetsDir } from '../../datasets/index.js';
import { explain } from '../../explain/index.js';
import { cpuOption, jsonOption } from '../options.js';
import { writeJsonOutput } from '../output.js';

export function registerAnalyze(program: CommandUnknownOpts): void {
  program
    .command('analyze')
    .description(
      'critical-path analysis of the hot decode loop of an ARM64 function on a CPU model (Apple, Neoverse); or a ' +
        'base/head/libdeflate diff',
    )
    .option(
      '--binary <file>',
      'ARM64 binary, object or library, or a listing (llvm-objdump -d, objdump -d, otool -tvV)',
    )
    .option(
      '--function <name>',
      'function name (mangled or demangled, or /regex/), or an address range 0xSTART-0xEND checked to be one function',
    )
    .addOption(
      cpuOption(
        'CPU model (lab/uarch/models: apple-m1, apple-m2, apple-m3, neoverse-n2, neoverse-v1, neoverse-v2, ' +
          'llvm-mca-apple-m1); default: the one chosen for the machine of --results, else this host',
      ),
    )
    .option(
      '--loop <pin>',
      'pin the decode loop instead of choosing it by evidence: header address (0x5cc), offset from the function ' +
        'start (+0x5cc) or source line (file.c:123, needs debug info)',
    )
    .option('--reference-loop <pin>', 'diff mode: pin the loop in --reference the same way')
    .option('--base <file>', 'diff mode: the base build (binary or listing)')
    .option('--head <file>', 'diff mode: the head build (binary or listing)')
    .option('--reference <file>', 'diff mode: libdeflate (binary, object or listing)')
    .option('--reference-function <name>', 'function in --reference', 'libdeflate_deflate_decompress_ex')
    .option(
      '--results <file>',
      'diff mode: a results JSON of the same builds; the loop model is checked per dataset against it',
    )
    .option(
      '--datasets <dir>',
      'diff mode with --results: the datasets folder it measured (default: .perf-lab/datasets/quick)',
    )
    .addOption(jsonOption('write the analysis as JSON'))
    .option('--all', 'analyse every function matching --function (name or /regex/) that has a loop')
    .option('--no-mca', "skip the llvm-mca cross-check of each role's usual path (run when llvm-mca is found)")
    .action(async (options) => {
      const explanation = await explain({
        ...options,
        functionName: options.function,
        resultsPath: options.results,
        datasetsDir: options.datasets ?? defaultDatasetsDir('quick'),
      });
      await writeJsonOutput(options.json, explanation.json);
      process.stdout.write(explanation.text);
    });
}
