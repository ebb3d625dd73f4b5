import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { doctorReport, runDoctor } from '../../doctor/index.js';

export function registerDoctor(program: CommandUnknownOpts): void {
  program
    .command('doctor')
    .description('check the tools and inputs the lab needs on this machine, and say what to install')
    .option('--network', "also check that libdeflate's git repository is reachable")
    .action(async (options) => {
      const checks = await runDoctor({ network: options.network });
      process.stdout.write(doctorReport(checks));
      if (checks.some((check) => !check.ok && check.needed === 'required')) process.exitCode = 1;
    });
}
