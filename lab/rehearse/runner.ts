import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import * as tar from 'tar';
import type { ReusableWorkflowJob, WorkflowJob } from '@actions/workflow-parser/model/workflow-template';
import type { MappingToken, TemplateToken } from '@actions/workflow-parser/templates/tokens/index';
import {
  STAND_INS,
  StepFailure,
  toolCallsSince,
  type StandIn,
  type StandInGitHub,
  type ToolCall,
  type World,
} from './stand-ins.js';
import {
  asString,
  child,
  conditionHolds,
  evaluateMapping,
  evaluateString,
  evaluateToken,
  loadAction,
  loadWorkflow,
  type Contexts,
  type JobStatus,
  type LoadedWorkflow,
} from './workflow.js';

/*
 * The runner's side, step by step: a job's `if:`, its env (workflow, job, step, and what GITHUB_ENV/GITHUB_PATH
 * added), each step's `if:` and `continue-on-error`, `run:` scripts under the shell GitHub uses, JavaScript actions
 * from their action.yml (inputs from `with:` over the defaults, INPUT_* variables, `node <main>`), third-party
 * actions through their stand-ins, step outputs and the workflow commands in the logs. A reusable workflow's jobs run
 * with `inputs` from the caller's `with:` and `job.workflow_*` naming the called workflow.
 */

export type Conclusion = 'success' | 'failure' | 'skipped';

export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  message: string;
}

export interface StepResult {
  name: string;
  /** The step's id as the workflow gives it ('' for none). */
  id: string;
  uses?: string;
  /** How it ran: a script, a JavaScript action, a stand-in, or not at all. */
  kind: 'run' | 'node' | 'stand-in' | 'skipped';
  outcome: Conclusion;
  conclusion: Conclusion;
  outputs: Record<string, string>;
  log: string[];
  annotations: Annotation[];
  /** Calls of the recorded build tools made while it ran. */
  tools: ToolCall[];
  seconds: number;
}

export interface JobResult {
  /** `caller job / called job` for a reusable workflow's job. */
  id: string;
  conclusion: Conclusion;
  /** What `runs-on` asked for (the rehearsal runs every job on this host). */
  runsOn: string;
  steps: StepResult[];
  summary: string;
  workspace: string;
}

export interface WorkflowRunResult {
  workflow: string;
  event: string;
  runId: number;
  conclusion: 'success' | 'failure';
  jobs: JobResult[];
}

/** Where a reusable workflow reference points in the rehearsal. */
export interface CalledWorkflow {
  path: string;
  name: string;
  repository: string;
  sha: string;
  /** The workflow file inside its repository. */
  filePath: string;
  /** `owner/repo/path@ref` as job.workflow_ref gives it. */
  ref: string;
}

export interface RunRequest {
  caller: LoadedWorkflow;
  /** Resolves a `uses:` of a reusable workflow (undefined: not one the rehearsal holds). */
  called: (uses: string) => CalledWorkflow | undefined;
  eventName: string;
  payload: Record<string, unknown>;
  /** The github context of the run (event, token and workspace are added per job). */
  github: Record<string, unknown>;
  token: string;
  runId: number;
  /** A folder for the run's jobs (each job gets a fresh workspace and temp folder, like a fresh runner). */
  dir: string;
  world: World;
  /** Environment every step starts from (the host's, without what a runner sets itself). */
  hostEnv: Record<string, string>;
  /** First on every step's PATH: the tool wrappers (lab/rehearse/stand-ins.ts). */
  shimDir: string;
  toolLog: string;
  onLine?: (line: string) => void;
}

const RUNNER_OS: Record<string, string> = { linux: 'Linux', darwin: 'macOS', win32: 'Windows' };
const RUNNER_ARCH: Record<string, string> = { x64: 'X64', arm64: 'ARM64', arm: 'ARM', ia32: 'X86' };

/** The variable the runner passes an action input in (what @actions/core's getInput reads). */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

/** Parses `name=value` and `name<<DELIMITER` … `DELIMITER` entries of a GITHUB_OUTPUT/GITHUB_ENV file. */
export function parseFileCommands(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  const all = text.split(/\r?\n/);
  for (let i = 0; i < all.length; i++) {
    const line = all[i]!;
    if (!line) continue;
    const heredoc = /^([^=]+?)<<(.+)$/.exec(line);
    const equals = line.indexOf('=');
    if (heredoc && (equals < 0 || equals > line.indexOf('<<'))) {
      const [, name, end] = heredoc;
      const value: string[] = [];
      for (i++; i < all.length && all[i] !== end; i++) value.push(all[i]!);
      if (i >= all.length) throw new Error(`file command ${name}: no closing delimiter ${end}`);
      result[name!] = value.join('\n');
    } else if (equals > 0) result[line.slice(0, equals)] = line.slice(equals + 1);
    else throw new Error(`file command line without = or <<: ${line}`);
  }
  return result;
}

const unescapeData = (text: string) => text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');

class JobRun {
  readonly steps: StepResult[] = [];
  readonly status: JobStatus = { failed: false };
  private readonly stepsContext: Record<string, unknown> = {};
  private readonly addedEnv: Record<string, string> = {};
  private readonly addedPath: string[] = [];
  private readonly masks = new Set<string>();
  private summary = '';
  private commandFiles = 0;

  constructor(
    private readonly request: RunRequest,
    private readonly workflow: LoadedWorkflow,
    private readonly job: WorkflowJob & { type: 'job' },
    private readonly label: string,
    private readonly dirs: {
      workspace: string;
      temp: string;
      toolCache: string;
      actions: string;
      eventPath: string;
      log: string;
    },
    private readonly base: Contexts,
    private readonly env: Record<string, string>,
    private readonly runnerVars: Record<string, string>,
  ) {
    this.masks.add(request.token);
  }

  private raw(...keys: Array<string | number>): TemplateToken | undefined {
    return child(this.workflow.root, 'jobs', this.job.id.value, ...keys);
  }

  private contexts(stepEnv: Record<string, string> = {}): Contexts {
    return {
      ...this.base,
      env: { ...this.env, ...this.addedEnv, ...stepEnv },
      steps: this.stepsContext,
      job: { ...this.base.job, status: this.status.failed ? 'failure' : 'success' },
    };
  }

  private mask(line: string): string {
    let masked = line;
    for (const secret of this.masks) if (secret) masked = masked.split(secret).join('***');
    return masked;
  }

  private emit(step: StepResult, line: string): void {
    const masked = this.mask(line);
    step.log.push(masked);
    this.request.onLine?.(`[${this.label}] ${step.name} | ${masked}`);
  }

  /** A line a step's process wrote: a workflow command (::error:: and the like) or log text. */
  private processLine(step: StepResult, line: string, stopToken: { value: string | undefined }): void {
    const command = /^::([A-Za-z-]+)(?: ([^:]*))?::(.*)$/.exec(line);
    if (stopToken.value) {
      if (line === `::${stopToken.value}::`) stopToken.value = undefined;
      this.emit(step, line);
      return;
    }
    if (!command) return this.emit(step, line);
    const [, name = '', , rawMessage = ''] = command;
    const message = unescapeData(rawMessage);
    switch (name) {
      case 'error':
      case 'warning':
      case 'notice':
        step.annotations.push({ level: name, message });
        this.emit(step, `##[${name}]${message}`);
        return;
      case 'add-mask':
        this.masks.add(message);
        return;
      case 'stop-commands':
        stopToken.value = message;
        return;
      case 'group':
        this.emit(step, `##[group]${message}`);
        return;
      case 'endgroup':
        this.emit(step, '##[endgroup]');
        return;
      case 'debug':
        return;
      default:
        step.annotations.push({ level: 'warning', message: `workflow command ::${name}:: is not modelled` });
        this.emit(step, line);
    }
  }

  private async spawnStep(
    step: StepResult,
    file: string,
    args: readonly string[],
    cwd: string,
    env: Record<string, string>,
  ): Promise<number> {
    const child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stop = { value: undefined as string | undefined };
    const done = Promise.all(
      [child.stdout, child.stderr].map(
        (stream) =>
          new Promise<void>((resolvePromise) => {
            createInterface({ input: stream })
              .on('line', (line) => this.processLine(step, line, stop))
              .on('close', () => resolvePromise());
          }),
      ),
    );
    const code = await new Promise<number>((resolvePromise) => {
      child.on('error', (error) => {
        this.emit(step, `##[error]${error.message}`);
        resolvePromise(127);
      });
      child.on('close', (exitCode, signal) => resolvePromise(exitCode ?? (signal ? 128 : 1)));
    });
    await done;
    return code;
  }

  /** The env a step's process gets: the host's, the runner's variables, workflow/job/GITHUB_ENV/step env, PATH. */
  private processEnv(stepEnv: Record<string, string>, files: Record<string, string>): Record<string, string> {
    const path = [...this.addedPath, this.request.shimDir, this.request.hostEnv.PATH ?? ''].join(delimiter);
    return {
      ...this.request.hostEnv,
      ...this.env,
      ...this.addedEnv,
      ...stepEnv,
      ...this.runnerVars,
      ...files,
      PATH: path,
    };
  }

  private async commandFilesFor(): Promise<Record<string, string>> {
    const dir = join(this.dirs.temp, '_runner_file_commands');
    await mkdir(dir, { recursive: true });
    const n = ++this.commandFiles;
    const files: Record<string, string> = {
      GITHUB_OUTPUT: join(dir, `set_output_${n}`),
      GITHUB_ENV: join(dir, `set_env_${n}`),
      GITHUB_PATH: join(dir, `add_path_${n}`),
      GITHUB_STEP_SUMMARY: join(dir, `step_summary_${n}`),
      GITHUB_STATE: join(dir, `save_state_${n}`),
    };
    for (const file of Object.values(files)) await writeFile(file, '');
    return files;
  }

  /** Reads what the step wrote to its command files: outputs, env and PATH for later steps, the job summary. */
  private async readCommandFiles(step: StepResult, files: Record<string, string>): Promise<void> {
    const read = (name: string) => readFile(files[name]!, 'utf8');
    try {
      Object.assign(step.outputs, parseFileCommands(await read('GITHUB_OUTPUT')));
      Object.assign(this.addedEnv, parseFileCommands(await read('GITHUB_ENV')));
    } catch (error) {
      step.annotations.push({ level: 'error', message: (error as Error).message });
      step.outcome = 'failure';
    }
    for (const line of (await read('GITHUB_PATH')).split('\n')) if (line.trim()) this.addedPath.unshift(line.trim());
    this.summary += await read('GITHUB_STEP_SUMMARY');
  }

  private async runScript(step: StepResult, stepEnv: Record<string, string>, stepIndex: number): Promise<void> {
    const script = evaluateString(child(this.raw('steps', stepIndex), 'run'), this.contexts(stepEnv), this.status);
    const shell =
      evaluateString(this.raw('steps', stepIndex, 'shell'), this.contexts(stepEnv)) ||
      evaluateString(this.raw('defaults', 'run', 'shell'), this.contexts()) ||
      evaluateString(child(this.workflow.root, 'defaults', 'run', 'shell'), this.contexts());
    const workingDirectory =
      evaluateString(this.raw('steps', stepIndex, 'working-directory'), this.contexts(stepEnv)) ||
      evaluateString(this.raw('defaults', 'run', 'working-directory'), this.contexts());
    const file = join(this.dirs.temp, `${randomUUID()}.sh`);
    await writeFile(file, script);
    // GitHub's shells: bash with no shell given is `bash -e {0}`; `shell: bash` adds --noprofile --norc and pipefail.
    const command =
      !shell || shell === 'bash'
        ? shell === 'bash'
          ? ['bash', '--noprofile', '--norc', '-eo', 'pipefail', file]
          : ['bash', '-e', file]
        : shell === 'sh'
          ? ['sh', '-e', file]
          : shell.includes('{0}')
            ? shell.split(/\s+/).map((part) => part.replace('{0}', file))
            : undefined;
    if (!command) throw new StepFailure(`shell ${shell} is not modelled`);
    const files = await this.commandFilesFor();
    const cwd = workingDirectory ? resolve(this.dirs.workspace, workingDirectory) : this.dirs.workspace;
    this.emit(step, `##[command]${command.join(' ')}`);
    const code = await this.spawnStep(step, command[0]!, command.slice(1), cwd, this.processEnv(stepEnv, files));
    await this.readCommandFiles(step, files);
    if (code !== 0) {
      step.annotations.push({ level: 'error', message: `Process completed with exit code ${code}.` });
      step.outcome = 'failure';
    }
  }

  /** Where a `uses:` action lives: `./path` in the workspace, or perf-lab's own actions downloaded at the pin. */
  private async actionDir(uses: string): Promise<string | undefined> {
    if (uses.startsWith('./')) return resolve(this.dirs.workspace, uses);
    const match = /^([^/@]+\/[^/@]+)((?:\/[^@]+)?)@(.+)$/.exec(uses);
    const { perfLab } = this.request.world;
    if (!match || match[1]!.toLowerCase() !== perfLab.repository.toLowerCase()) return undefined;
    if (match[3] !== perfLab.sha)
      throw new StepFailure(
        `Unable to resolve action \`${uses}\`: the rehearsal holds ${perfLab.repository} at ${perfLab.sha} only`,
      );
    // The runner downloads the repository's tarball at the ref into _actions/owner/repo/ref.
    const dir = join(this.dirs.actions, perfLab.repository, perfLab.sha);
    if (!existsSync(dir)) {
      await mkdir(dir, { recursive: true });
      await tar.extract({ file: perfLab.archive, cwd: dir });
    }
    return join(dir, match[2]!.replace(/^\//, ''));
  }

  private async runNodeAction(
    step: StepResult,
    dir: string,
    withValues: Record<string, string>,
    stepEnv: Record<string, string>,
  ): Promise<void> {
    const manifest = ['action.yml', 'action.yaml'].map((name) => join(dir, name)).find((path) => existsSync(path));
    if (!manifest) throw new StepFailure(`Can't find 'action.yml' or 'action.yaml' under '${dir}'.`);
    const { action, errors } = await loadAction(manifest, manifest);
    if (errors.length) throw new StepFailure(`${manifest}: ${errors.join('; ')}`);
    const runs = action.runs;
    if (!runs.using.startsWith('node'))
      throw new StepFailure(`actions running ${runs.using} are not modelled (${manifest})`);
    const node = runs as { using: string; main: string; pre?: string; post?: string };
    if (node.pre || node.post) throw new StepFailure(`pre and post scripts are not modelled (${manifest})`);
    const declared = new Map((action.inputs ?? []).map((input) => [input.id.toLowerCase(), input]));
    const unexpected = Object.keys(withValues).filter((name) => !declared.has(name.toLowerCase()));
    if (unexpected.length)
      step.annotations.push({
        level: 'warning',
        message:
          `Unexpected input(s) '${unexpected.join("', '")}', valid inputs are ` +
          `['${[...declared.values()].map((input) => input.id).join("', '")}']`,
      });
    const inputs: Record<string, string> = {};
    for (const input of declared.values())
      inputs[input.id] = withValues[input.id] ?? evaluateString(input.default, this.contexts(stepEnv), this.status);
    for (const name of unexpected) inputs[name] = withValues[name]!;
    const inputEnv = Object.fromEntries(Object.entries(inputs).map(([name, value]) => [inputVariable(name), value]));
    const files = await this.commandFilesFor();
    const main = join(dir, node.main);
    this.emit(step, `##[command]node ${main} (declares ${runs.using}; the host's Node.js ${process.version} runs it)`);
    const code = await this.spawnStep(step, process.execPath, [main], this.dirs.workspace, {
      ...this.processEnv(stepEnv, files),
      ...inputEnv,
    });
    await this.readCommandFiles(step, files);
    if (code !== 0) step.outcome = 'failure';
  }

  private standInGitHub(): StandInGitHub {
    const github = this.base.github;
    const repository = github.event as { repository?: { default_branch?: string } } | undefined;
    return {
      repository: asString(github.repository),
      ref: asString(github.ref),
      sha: asString(github.sha),
      runId: Number(github.run_id),
      eventName: asString(github.event_name),
      baseRef: asString(github.base_ref),
      defaultBranch: repository?.repository?.default_branch ?? 'main',
      token: this.request.token,
      serverUrl: asString(github.server_url),
      apiUrl: asString(github.api_url),
      event: this.request.payload,
    };
  }

  private async runStandIn(step: StepResult, standIn: StandIn, withValues: Record<string, string>): Promise<void> {
    const unexpected = Object.keys(withValues).filter((name) => !(name in standIn.inputs));
    if (unexpected.length)
      step.annotations.push({
        level: 'warning',
        message:
          `Unexpected input(s) '${unexpected.join("', '")}', valid inputs are ` +
          `['${Object.keys(standIn.inputs).join("', '")}']`,
      });
    const inputs = { ...standIn.inputs, ...withValues };
    for (const name of standIn.required ?? [])
      if (!inputs[name]) throw new StepFailure(`Input required and not supplied: ${name}`);
    const outputs = await standIn.run({
      input: (name) => inputs[name] ?? '',
      workspace: this.dirs.workspace,
      runnerTemp: this.dirs.temp,
      github: this.standInGitHub(),
      world: this.request.world,
      log: (line) => this.emit(step, line),
      annotate: (level, message) => {
        step.annotations.push({ level, message });
        this.emit(step, `##[${level}]${message}`);
      },
    });
    Object.assign(step.outputs, outputs);
  }

  async run(): Promise<void> {
    const steps = this.job.steps;
    for (let index = 0; index < steps.length; index++) {
      const converted = steps[index]!;
      const raw = this.raw('steps', index);
      const uses = 'uses' in converted ? converted.uses.value : undefined;
      const firstLine = 'run' in converted ? asString(converted.run.toString()).split('\n')[0] : '';
      const name =
        (converted.name ? evaluateString(converted.name, this.contexts()) : '') ||
        (uses ? `Run ${uses}` : `Run ${firstLine}`);
      const id = converted.id.startsWith('__') ? '' : converted.id;
      const step: StepResult = {
        name,
        id,
        uses,
        kind: 'skipped',
        outcome: 'skipped',
        conclusion: 'skipped',
        outputs: {},
        log: [],
        annotations: [],
        tools: [],
        seconds: 0,
      };
      this.steps.push(step);
      const started = Date.now();
      const toolLogAt = (await stat(this.request.toolLog)).size;
      try {
        if (conditionHolds(child(raw, 'if'), this.contexts(), this.status)) {
          step.outcome = 'success';
          const stepEnv = evaluateMapping(child(raw, 'env'), this.contexts(), this.status);
          if (!uses) {
            step.kind = 'run';
            await this.runScript(step, stepEnv, index);
          } else {
            const withValues = evaluateMapping(child(raw, 'with'), this.contexts(stepEnv), this.status);
            const dir = await this.actionDir(uses);
            if (dir) {
              step.kind = 'node';
              await this.runNodeAction(step, dir, withValues, stepEnv);
            } else {
              const key = uses.replace(/@.*$/, '').toLowerCase();
              const standIn = STAND_INS.get(key);
              if (!standIn) throw new StepFailure(`no stand-in for ${uses} (lab/rehearse/stand-ins.ts lists them)`);
              step.kind = 'stand-in';
              await this.runStandIn(step, standIn, withValues);
            }
          }
        }
      } catch (error) {
        step.outcome = 'failure';
        const message =
          error instanceof StepFailure ? error.message : `rehearsal: ${(error as Error).stack ?? String(error)}`;
        step.annotations.push({ level: 'error', message });
        this.emit(step, `##[error]${message}`);
      }
      const continueOnError = converted['continue-on-error'];
      const tolerated =
        step.outcome === 'failure' &&
        (typeof continueOnError === 'boolean'
          ? continueOnError
          : Boolean(continueOnError && evaluateToken(continueOnError, this.contexts(), this.status)));
      step.conclusion = tolerated ? 'success' : step.outcome;
      if (step.conclusion === 'failure') this.status.failed = true;
      step.seconds = (Date.now() - started) / 1000;
      step.tools = await toolCallsSince(this.request.toolLog, toolLogAt);
      if (id) this.stepsContext[id] = { outputs: step.outputs, outcome: step.outcome, conclusion: step.conclusion };
      this.emit(step, `-- ${step.outcome}${tolerated ? ' (continue-on-error)' : ''} in ${step.seconds.toFixed(1)} s`);
      await appendFile(this.dirs.log, `## ${step.name}\n${step.log.join('\n')}\n`);
    }
  }

  result(runsOn: string): JobResult {
    return {
      id: this.label,
      conclusion: this.status.failed ? 'failure' : 'success',
      runsOn,
      steps: this.steps,
      summary: this.summary,
      workspace: this.dirs.workspace,
    };
  }
}

/** Inputs of a called workflow: the caller's `with:` over the definitions' defaults, typed as declared. */
function calledInputs(job: ReusableWorkflowJob, contexts: Contexts): Record<string, unknown> {
  const inputs: Record<string, unknown> = {};
  const values = job['input-values'];
  for (const pair of job['input-definitions'] ?? []) {
    const name = asString(pair.key.toString());
    const definition = pair.value as MappingToken;
    const type = asString(evaluateToken(definition.find('type'), contexts));
    const given = values?.find(name);
    let value = given ? evaluateToken(given, contexts) : evaluateToken(definition.find('default'), contexts);
    if (type === 'boolean') value = value === true || value === 'true';
    else if (type === 'number') value = Number(value ?? 0);
    else value = asString(value);
    inputs[name] = value;
  }
  return inputs;
}

function skippedJob(label: string): JobResult {
  return { id: label, conclusion: 'skipped', runsOn: '', steps: [], summary: '', workspace: '' };
}

/** Runs one workflow for one event, every job in order, on this host. */
export async function runWorkflow(request: RunRequest): Promise<WorkflowRunResult> {
  const jobs: JobResult[] = [];
  const runner = {
    os: RUNNER_OS[process.platform] ?? process.platform,
    arch: RUNNER_ARCH[process.arch] ?? process.arch,
    name: 'perf-lab rehearsal',
    environment: 'github-hosted',
  };
  const playJob = async (
    workflow: LoadedWorkflow,
    job: WorkflowJob,
    label: string,
    inputs: Record<string, unknown>,
    jobContext: Record<string, unknown>,
  ) => {
    if (job.type !== 'job')
      throw new Error(`${workflow.file}: a reusable workflow inside a called one is not modelled`);
    for (const key of ['needs', 'strategy', 'container', 'services'] as const)
      if (child(workflow.root, 'jobs', job.id.value, key))
        throw new Error(`${workflow.file}: job ${job.id.value}: ${key} is not modelled by the rehearsal`);
    const jobDir = join(request.dir, `${request.runId}-${label.replace(/[^A-Za-z0-9_-]+/g, '_')}`);
    const dirs = {
      workspace: join(jobDir, 'work', 'workspace'),
      temp: join(jobDir, 'temp'),
      toolCache: join(jobDir, 'tool-cache'),
      actions: join(jobDir, 'actions'),
      eventPath: join(jobDir, 'event.json'),
      log: join(jobDir, 'log.txt'),
    };
    for (const dir of [dirs.workspace, dirs.temp, dirs.toolCache, dirs.actions]) await mkdir(dir, { recursive: true });
    await writeFile(dirs.eventPath, JSON.stringify(request.payload, null, 2));
    const github: Record<string, unknown> = {
      ...request.github,
      event_name: request.eventName,
      event: request.payload,
      run_id: String(request.runId),
      token: request.token,
      workspace: dirs.workspace,
      job: job.id.value,
    };
    const base: Contexts = {
      github,
      inputs,
      job: jobContext,
      runner: { ...runner, temp: dirs.temp, tool_cache: dirs.toolCache },
      secrets: { GITHUB_TOKEN: request.token },
      vars: {},
    };
    const raw = child(workflow.root, 'jobs', job.id.value);
    if (!conditionHolds(child(raw, 'if'), base, { failed: false })) {
      jobs.push(skippedJob(label));
      request.onLine?.(`[${label}] skipped (its if: is false)`);
      return;
    }
    const runsOn = evaluateString(child(raw, 'runs-on'), base);
    const workflowEnv = evaluateMapping(child(workflow.root, 'env'), base);
    const env = { ...workflowEnv, ...evaluateMapping(child(raw, 'env'), { ...base, env: workflowEnv }) };
    const runnerVars: Record<string, string> = {
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKSPACE: dirs.workspace,
      GITHUB_EVENT_PATH: dirs.eventPath,
      GITHUB_EVENT_NAME: request.eventName,
      GITHUB_REPOSITORY: asString(github.repository),
      GITHUB_REPOSITORY_OWNER: asString(github.repository_owner),
      GITHUB_RUN_ID: String(request.runId),
      GITHUB_RUN_NUMBER: asString(github.run_number),
      GITHUB_RUN_ATTEMPT: asString(github.run_attempt),
      GITHUB_SHA: asString(github.sha),
      GITHUB_REF: asString(github.ref),
      GITHUB_REF_NAME: asString(github.ref_name),
      GITHUB_HEAD_REF: asString(github.head_ref),
      GITHUB_BASE_REF: asString(github.base_ref),
      GITHUB_ACTOR: asString(github.actor),
      GITHUB_WORKFLOW: asString(github.workflow),
      GITHUB_WORKFLOW_REF: asString(github.workflow_ref),
      GITHUB_JOB: job.id.value,
      GITHUB_SERVER_URL: asString(github.server_url),
      GITHUB_API_URL: asString(github.api_url),
      GITHUB_GRAPHQL_URL: `${asString(github.api_url)}/graphql`,
      RUNNER_OS: runner.os,
      RUNNER_ARCH: runner.arch,
      RUNNER_NAME: runner.name,
      RUNNER_ENVIRONMENT: runner.environment,
      RUNNER_TEMP: dirs.temp,
      RUNNER_TOOL_CACHE: dirs.toolCache,
    };
    request.onLine?.(`[${label}] runs-on: ${runsOn} (rehearsed on this host: ${runner.os} ${runner.arch})`);
    const run = new JobRun(request, workflow, job, label, dirs, base, env, runnerVars);
    await run.run();
    jobs.push(run.result(runsOn));
  };

  const callerContexts: Contexts = {
    github: {
      ...request.github,
      event_name: request.eventName,
      event: request.payload,
      run_id: String(request.runId),
      token: request.token,
    },
    vars: {},
    secrets: { GITHUB_TOKEN: request.token },
  };
  for (const job of request.caller.template.jobs) {
    if (job.type === 'job') {
      await playJob(request.caller, job, job.id.value, {}, {});
      continue;
    }
    const called = request.called(job.ref.value);
    if (!called)
      throw new Error(
        `${request.caller.file}: job ${job.id.value}: ${job.ref.value} is not a workflow the rehearsal holds`,
      );
    if (!conditionHolds(child(request.caller.root, 'jobs', job.id.value, 'if'), callerContexts, { failed: false })) {
      jobs.push(skippedJob(job.id.value));
      continue;
    }
    const callee = await loadWorkflow(called.path, called.name);
    if (callee.errors.length) throw new Error(`${called.name}: ${callee.errors.join('; ')}`);
    const inputs = calledInputs(job, callerContexts);
    const jobContext = {
      workflow_repository: called.repository,
      workflow_sha: called.sha,
      workflow_ref: called.ref,
      workflow_file_path: called.filePath,
    };
    for (const calledJob of callee.template.jobs)
      await playJob(callee, calledJob, `${job.id.value} / ${calledJob.id.value}`, inputs, jobContext);
  }
  return {
    workflow: request.caller.file,
    event: request.eventName,
    runId: request.runId,
    conclusion: jobs.some((job) => job.conclusion === 'failure') ? 'failure' : 'success',
    jobs,
  };
}
