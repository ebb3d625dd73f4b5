// A rehearsal of the PR check's real workflows for a fork's pull request (lab/rehearse/README.md).
// Usage: npm run rehearse [-- --working-tree] [--keep | --dir DIR] [--quiet]
//   --working-tree  rehearse the working tree as `git add -A` would commit it (default: the committed HEAD)
//   --keep / --dir  keep the rehearsal's folder (job workspaces, logs, caches) / put it at DIR (kept)
//   --quiet         print only the runs and the checks, not every step's log
//   --push-first    the warm scenario: two pushes to main (the warm job, datasets: logs), then a PR run (in CI too)
//   --stand-ins     list the stand-ins (what each models and does not) and exit
import { parseArgs } from 'node:util';
import { buildsOf, checkRehearsal, rehearse } from '../lab/rehearse/index.js';
import { STAND_IN_TOOLS, STAND_INS } from '../lab/rehearse/stand-ins.js';

const { values } = parseArgs({
  options: {
    'working-tree': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    dir: { type: 'string' },
    quiet: { type: 'boolean', default: false },
    'stand-ins': { type: 'boolean', default: false },
    'push-first': { type: 'boolean', default: false },
  },
});

if (values['stand-ins']) {
  for (const [action, standIn] of STAND_INS) {
    process.stdout.write(`${action}: ${standIn.models}\n`);
    for (const gap of standIn.notModelled) process.stdout.write(`  not modelled: ${gap}\n`);
  }
  for (const [tool, does] of Object.entries(STAND_IN_TOOLS)) process.stdout.write(`${tool} (on PATH): ${does}\n`);
  process.exit(0);
}

const rehearsal = await rehearse({
  source: values['working-tree'] ? 'working-tree' : 'head',
  keep: values.keep,
  pushFirst: values['push-first'],
  dir: values.dir,
  onLine: (line) => {
    if (!values.quiet || line.startsWith('==')) process.stdout.write(`${line}\n`);
  },
});

process.stdout.write(
  `\nperf-lab ${rehearsal.perfLab.sha} (${rehearsal.perfLab.source}) rehearsed in ${rehearsal.seconds.toFixed(0)} s\n`,
);
for (const run of rehearsal.runs) {
  process.stdout.write(`\n${run.label}: ${run.result.conclusion} (${run.seconds.toFixed(1)} s)\n`);
  for (const job of run.result.jobs) {
    process.stdout.write(
      `  ${job.id}: ${job.conclusion}${job.steps.length ? `, ${buildsOf(job).length} build calls` : ''}\n`,
    );
    for (const step of job.steps) {
      const notes = step.annotations.map((annotation) => `${annotation.level}: ${annotation.message.split('\n')[0]}`);
      process.stdout.write(
        `    ${step.outcome.padEnd(7)} ${step.seconds.toFixed(1).padStart(6)} s  ` +
          `${step.name}${notes.length ? `  [${notes.join(' | ')}]` : ''}\n`,
      );
    }
  }
}
const checks = checkRehearsal(rehearsal);
process.stdout.write('\n');
for (const check of checks) process.stdout.write(`${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}\n`);
if (values.keep || values.dir) process.stdout.write(`\nkept: ${rehearsal.dir}\n`);
process.exitCode = checks.every((check) => check.ok) ? 0 : 1;
