import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { Command } from '@commander-js/extra-typings';
import { defaultDatasetsDir } from '../datasets/index.js';
import { datasetSelection, failOnOption, subjectList, withDatasetOptions } from './options.js';
import { commaList } from './parse.js';
import { runPerfLab } from '../testing/cli.js';

/** A throwaway command with the dataset options, parsed from `args` without exiting the process. */
function parseDatasetOptions(args: string[]) {
  const command = withDatasetOptions(new Command('probe'))
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
  command.parse(args, { from: 'user' });
  return command.opts();
}

describe('the shared dataset options', () => {
  it('default to the quick scale and its folder, every dataset, online', () => {
    assert.deepEqual(datasetSelection(parseDatasetOptions([])), {
      scale: 'quick',
      datasetsDir: defaultDatasetsDir('quick'),
      only: undefined,
      offline: undefined,
    });
  });

  it('parse a scale, a relative folder (made absolute), a subset in any case, and --offline', () => {
    const options = parseDatasetOptions([
      '--scale',
      'full',
      '--datasets-dir',
      'd',
      '--only',
      'LOGS, silesia,',
      '--offline',
    ]);
    assert.deepEqual(datasetSelection(options), {
      scale: 'full',
      datasetsDir: resolve('d'),
      only: ['logs', 'silesia'],
      offline: true,
    });
  });

  it('refuse an unknown dataset or scale', () => {
    assert.throws(() => parseDatasetOptions(['--only', 'logs,foo']), /unknown dataset "foo"/);
    assert.throws(() => parseDatasetOptions(['--scale', 'huge']), /Allowed choices are quick, full/);
  });
});

describe('option parsers', () => {
  it('split comma lists and drop empty entries', () => {
    assert.deepEqual(commaList(' stable, ,nightly,'), ['stable', 'nightly']);
  });

  it('accept known subjects once each, and refuse unknown or none', () => {
    assert.deepEqual(subjectList('head,LIBDEFLATE,head'), ['head', 'libdeflate']);
    assert.throws(() => subjectList('head,tail'), /unknown subject "tail"/);
    assert.throws(() => subjectList(' , '), /name at least one subject/);
  });

  it('give --fail-on its own default per command and only its three choices', () => {
    const command = new Command('probe').addOption(failOnOption('exit 4', 'never')).exitOverride();
    command.configureOutput({ writeErr: () => undefined });
    assert.equal(command.parse([], { from: 'user' }).opts().failOn, 'never');
    assert.throws(() => command.parse(['--fail-on', 'always'], { from: 'user' }), /Allowed choices are/);
  });
});

describe('the commands that measure', () => {
  it('all take the one set of dataset options, with the same help', async () => {
    const shared = [
      '--scale <scale> dataset size: quick (16 MiB prefixes) or full (~211 MB) (choices: "quick", "full", ' +
        'default: "quick")',
      '--datasets-dir <dir> datasets folder (default: .perf-lab/datasets/<scale>)',
      '--only <names> comma-separated subset of silesia,software,logs',
      '--offline never download',
    ];
    for (const command of ['bench', 'demo', 'calibrate', 'pr-check', 'nightly']) {
      const run = await runPerfLab([command, '--help'], { reject: true });
      // Help wraps at a width that depends on the command's longest flag: compared with whitespace collapsed.
      const help = run.stdout.replace(/\s+/g, ' ');
      for (const option of shared) assert.ok(help.includes(option), `${command} --help: ${option}`);
    }
  });
});
