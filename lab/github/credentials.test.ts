import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gitAuthConfig, takeTokensFromEnvironment, tokenFor } from './credentials.js';
import { runPerfLab } from '../testing/cli.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'perf-lab-credentials-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('tokens', () => {
  it('are taken out of the environment, kept for the API and git push only', () => {
    process.env.PERF_LAB_PUSH_TOKEN = 'ghp_push';
    takeTokensFromEnvironment();
    assert.equal(process.env.PERF_LAB_PUSH_TOKEN, undefined);
    assert.equal(tokenFor('PERF_LAB_PUSH_TOKEN'), 'ghp_push');
    const [setting] = gitAuthConfig();
    assert.equal(
      setting,
      'http.https://github.com/.extraheader=AUTHORIZATION: basic ' +
        `${Buffer.from('x-access-token:ghp_push').toString('base64')}`,
    );
  });

  it('never reach a program the CLI starts (here the compressor of `datasets prepare`)', async () => {
    const seen = join(work, 'seen');
    const gzip = join(work, 'gzip-spy');
    await writeFile(gzip, `#!/bin/sh\necho "[$GITHUB_TOKEN][$PERF_LAB_PUSH_TOKEN]" >> "${seen}"\nexec gzip "$@"\n`);
    await chmod(gzip, 0o755);
    // `--gzip` names the compressor; the spy records what it saw, then compresses for real.
    const spied = await runPerfLab(
      ['datasets', 'prepare', '--only', 'logs', '--dir', join(work, 'datasets'), '--gzip', gzip],
      { env: { GITHUB_TOKEN: 'ghs_api', PERF_LAB_PUSH_TOKEN: 'ghp_push' } },
    );
    assert.equal(spied.exitCode, 0, String(spied.stderr));
    const lines = (await readFile(seen, 'utf8')).trim().split('\n');
    assert.ok(lines.length >= 1);
    for (const line of lines) assert.equal(line, '[][]', 'the compressor saw no token');
  });
});
