import type { BenchResults, DatasetResult } from '../bench/results.js';

/** Escapes text from tool output or configs for a markdown table cell (no HTML, pipes or line breaks). */
export function escapeCell(text: string): string {
  return text
    .replace(/[\\`*_[\]<>|]/g, (ch) => `\\${ch}`)
    .replace(/@/g, '@\u200b')
    .replace(/[\r\n]+/g, ' ');
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

const mbps = (value: number | null) => (value === null ? '—' : value.toFixed(1));

function ratioCells(dataset: DatasetResult): [string, string] {
  if (!dataset.ratio) return ['—', '—'];
  const { estimate, low, high, confidence } = dataset.ratio;
  return [`**${estimate.toFixed(3)}**`, `${low.toFixed(3)} – ${high.toFixed(3)} (${Math.round(confidence * 100)}%)`];
}

function verifiedCell(dataset: DatasetResult): string {
  if (dataset.verified) return `✅ ${dataset.rounds} rounds`;
  const failures = dataset.contenders.filter((contender) => contender.failure).map((contender) => `${contender.name}: ${contender.failure}`);
  return `❌ ${escapeCell(failures.join('; ') || 'no samples')}`;
}

/** The ratio table: one row a dataset, decoder vs libdeflate, with the paired-ratio CI. */
export function ratioTable(results: BenchResults): string {
  const decoderName = escapeCell(results.decoder.name);
  const libdeflateName = escapeCell(results.libdeflate.name);
  const lines = [
    `| dataset | size | ${decoderName} MB/s | ${libdeflateName} MB/s | ratio | 95% CI | verified |`,
    '|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const dataset of results.datasets) {
    const decoder = dataset.contenders.find((contender) => contender.role === 'decoder');
    const libdeflate = dataset.contenders.find((contender) => contender.role === 'libdeflate');
    const [ratio, interval] = ratioCells(dataset);
    lines.push(
      `| ${escapeCell(dataset.label)} | ${formatBytes(dataset.rawBytes)} | ${mbps(decoder?.megabytesPerSecond ?? null)} | ${mbps(libdeflate?.megabytesPerSecond ?? null)} | ${ratio} | ${interval} | ${verifiedCell(dataset)} |`,
    );
  }
  return lines.join('\n');
}

/** The full markdown report of one benchmark run. */
export function markdownReport(results: BenchResults): string {
  const { machine, decoder, libdeflate, settings } = results;
  const standIns = results.datasets.filter((dataset) => dataset.standIn);
  const toolchain = decoder.rustc ? `${decoder.rustc}, LLVM ${decoder.llvm}` : (decoder.compiler ?? 'unknown');
  const parts = [
    `## perf-lab: ${escapeCell(decoder.name)} vs ${escapeCell(libdeflate.name)}`,
    '',
    ratioTable(results),
    '',
    `ratio = ${escapeCell(decoder.name)} speed / libdeflate speed (above 1: the decoder is faster): rounds paired, combined per AB|BA rotation cycle, median with a seeded percentile-bootstrap CI. MB/s = 10⁶ bytes of output per second at the median decode time.`,
    '',
    `- machine: ${escapeCell(machine.cpuModel)}, ${machine.os} ${escapeCell(machine.osRelease)} ${machine.arch}, ${machine.logicalCpus} logical CPUs`,
    `- timing: ${results.mode === 'in-process' ? 'in-process (C ABI), decode call only, output out of cache and input in cache at the start of each decode' : 'whole process (CLI), both sides through their command-line programs'}; ${settings.rounds} interleaved rounds after ${settings.warmupRounds} warm-up; ${escapeCell([...new Set(results.datasets.map((dataset) => dataset.placement))].join(', '))}; every output verified byte for byte`,
    `- decoder: ${escapeCell(decoder.description)} (${escapeCell(toolchain)})`,
    `- libdeflate ${escapeCell(libdeflate.version)}: ${escapeCell(libdeflate.source)}; ${escapeCell(libdeflate.compiler)}; flags \`${libdeflate.cflags.replace(/`/g, "'")}\``,
    `- datasets: ${results.datasets.map((dataset) => `${escapeCell(dataset.label)} (${dataset.scale}, ${escapeCell(dataset.compressor)} -${dataset.level}, sha256 ${dataset.compressedSha256.slice(0, 12)})`).join('; ')}`,
  ];
  if (standIns.length > 0) {
    parts.push(`- ⚠️ ${standIns.map((dataset) => escapeCell(dataset.label)).join(', ')}: built from the Calgary and Canterbury corpora because the Silesia corpus was not available; not comparable with SILESIA results.`);
  }
  if (!results.ok) parts.push('', '**Verification failed**: no speed is reported for a contender that produced wrong output, crashed or hung.');
  return `${parts.join('\n')}\n`;
}
