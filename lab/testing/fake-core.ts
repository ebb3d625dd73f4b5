import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ActionCore } from '../../actions/shared.js';
import { projectRoot } from '../core/paths.js';

/**
 * An action step's inputs as the runner passes them: the step's `with:` over the defaults of the action.yml in
 * `actionDir`; an input the action.yml does not declare is refused.
 */
export async function stepInputs(actionDir: string, given: Record<string, string>): Promise<Record<string, string>> {
  const yml = parse(await readFile(join(actionDir, 'action.yml'), 'utf8')) as {
    inputs: Record<string, { default?: string }>;
  };
  for (const name of Object.keys(given))
    if (!(name in yml.inputs)) throw new Error(`${actionDir}/action.yml has no input ${name}`);
  const inputs: Record<string, string> = {};
  for (const [name, input] of Object.entries(yml.inputs)) inputs[name] = given[name] ?? input.default ?? '';
  return inputs;
}

/**
 * The runner's side of an action, in memory: inputs as the runner passes them (the step's `with:` over action.yml's
 * defaults, trimmed), and everything the action says back recorded for the test to read.
 */
export class FakeCore implements ActionCore {
  readonly outputs = new Map<string, string>();
  readonly failures: string[] = [];
  readonly notices: string[] = [];
  readonly secrets: string[] = [];
  summary = '';

  private constructor(private readonly inputs: Record<string, string>) {}

  /** A fake for actions/<action>, with `given` as the step's `with:`; an input action.yml lacks is refused. */
  static async for(action: string, given: Record<string, string>): Promise<FakeCore> {
    return new FakeCore(await stepInputs(join(projectRoot(), 'actions', action), given));
  }

  getInput(name: string): string {
    if (!(name in this.inputs)) throw new Error(`the action read input ${name}, which its action.yml does not declare`);
    return this.inputs[name]!.trim();
  }
  setOutput(name: string, value: string): void {
    this.outputs.set(name, value);
  }
  setFailed(message: string): void {
    this.failures.push(message);
  }
  setSecret(secret: string): void {
    this.secrets.push(secret);
  }
  notice(message: string): void {
    this.notices.push(message);
  }
  debug(): void {}
  group<T>(_name: string, body: () => Promise<T>): Promise<T> {
    return body();
  }
  async writeSummary(markdown: string): Promise<void> {
    this.summary += markdown;
  }
}
