import { readFile } from 'node:fs/promises';
import { data, Evaluator, Lexer, Parser } from '@actions/expressions';
import type { FunctionDefinition } from '@actions/expressions/funcs/info';
import { falsy } from '@actions/expressions/result';
import {
  convertWorkflowTemplate,
  isBasicExpression,
  isBoolean,
  isMapping,
  isNumber,
  isSequence,
  isString,
  NoOperationTraceWriter,
  parseWorkflow,
} from '@actions/workflow-parser';
import { convertActionTemplate, parseAction, type ActionTemplate } from '@actions/workflow-parser/actions/index';
import { ensureStatusFunction } from '@actions/workflow-parser/model/converter/if-condition';
import type { WorkflowTemplate } from '@actions/workflow-parser/model/workflow-template';
import type {
  BasicExpressionToken,
  MappingToken,
  TemplateToken,
} from '@actions/workflow-parser/templates/tokens/index';
import type { FileReference } from '@actions/workflow-parser/workflows/file-reference';
import { parse as parseYaml } from 'yaml';

/*
 * Workflows and actions as GitHub's own parser reads them (@actions/workflow-parser: schema validation, the job and
 * step model, `${{ }}` split into expressions), and expressions as @actions/expressions evaluates them. The only
 * thing done here by hand is the one the parser gets wrong for evaluation: see expressionOf.
 */

export interface LoadedWorkflow {
  /** The path it was read from, as shown in messages. */
  file: string;
  template: WorkflowTemplate;
  /** The parser's token tree (keys the converted model drops — with, shell, working-directory — are read here). */
  root: MappingToken;
  /** Every error the parser and the converter reported (schema, expressions, a referenced workflow's inputs). */
  errors: string[];
}

/** Maps a reusable workflow reference (`owner/repo/path@ref`) to the file that holds it. */
export type WorkflowResolver = (reference: FileReference) => Promise<{ path: string; name: string }>;

export async function loadWorkflow(path: string, name: string, resolve?: WorkflowResolver): Promise<LoadedWorkflow> {
  const parsed = parseWorkflow({ name, content: await readFile(path, 'utf8') }, new NoOperationTraceWriter());
  if (!parsed.value || !isMapping(parsed.value)) {
    const errors = parsed.context.errors.getErrors().map((error) => error.message);
    throw new Error(`${name}: the workflow parser produced no workflow: ${errors.join('; ') || 'empty file'}`);
  }
  const provider = resolve
    ? {
        getFileContent: async (reference: FileReference) => {
          const file = await resolve(reference);
          return { name: file.name, content: await readFile(file.path, 'utf8') };
        },
      }
    : undefined;
  const template = await convertWorkflowTemplate(parsed.context, parsed.value, provider, {
    fetchReusableWorkflowDepth: resolve ? 1 : 0,
  });
  const errors = [
    ...new Set([
      ...parsed.context.errors.getErrors().map((error) => error.message),
      ...(template.errors ?? []).map((error) => error.Message),
    ]),
  ];
  return { file: name, template, root: parsed.value, errors };
}

export async function loadAction(path: string, name: string): Promise<{ action: ActionTemplate; errors: string[] }> {
  const parsed = parseAction({ name, content: await readFile(path, 'utf8') }, new NoOperationTraceWriter());
  if (!parsed.value) throw new Error(`${name}: the action parser produced nothing`);
  const action = convertActionTemplate(parsed.context, parsed.value);
  return { action, errors: parsed.context.errors.getErrors().map((error) => error.message) };
}

/** The value at `keys` under a mapping or sequence of the token tree (undefined where there is none). */
export function child(token: TemplateToken | undefined, ...keys: Array<string | number>): TemplateToken | undefined {
  let at = token;
  for (const key of keys) {
    if (!at) return undefined;
    if (typeof key === 'number') at = isSequence(at) && key < at.count ? at.get(key) : undefined;
    else at = isMapping(at) ? at.find(key) : undefined;
  }
  return at;
}

/** The contexts an expression may read (a missing one reads as an empty object). */
export interface Contexts {
  github: Record<string, unknown>;
  inputs?: Record<string, unknown>;
  env?: Record<string, string>;
  job?: Record<string, unknown>;
  runner?: Record<string, unknown>;
  steps?: Record<string, unknown>;
  secrets?: Record<string, string>;
  vars?: Record<string, string>;
  matrix?: Record<string, unknown>;
  strategy?: Record<string, unknown>;
  needs?: Record<string, unknown>;
}

/** How the steps before this one went, for the status functions of an `if:`. */
export interface JobStatus {
  failed: boolean;
}

const CONTEXT_NAMES = [
  'github',
  'inputs',
  'env',
  'job',
  'jobs',
  'runner',
  'steps',
  'secrets',
  'vars',
  'matrix',
  'strategy',
  'needs',
] as const;

function statusFunctions(status: JobStatus): Map<string, FunctionDefinition> {
  const of = (name: string, value: () => boolean): [string, FunctionDefinition] => [
    name.toLowerCase(),
    { name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(value()) },
  ];
  return new Map([
    of('success', () => !status.failed),
    of('failure', () => status.failed),
    of('always', () => true),
    // Nothing cancels a rehearsal.
    of('cancelled', () => false),
    [
      'hashfiles',
      {
        name: 'hashFiles',
        minArgs: 1,
        maxArgs: 255,
        call: () => {
          throw new Error('hashFiles() is not modelled by the rehearsal');
        },
      },
    ],
  ]);
}

function toData(value: unknown): data.ExpressionData {
  return JSON.parse(JSON.stringify(value ?? null), data.reviver) as data.ExpressionData;
}

/** Evaluates one expression (without `${{ }}`) with @actions/expressions. */
function evaluateExpression(
  expression: string,
  contexts: Contexts,
  status: JobStatus = { failed: false },
): data.ExpressionData {
  const functions = statusFunctions(status);
  const tree = new Parser(new Lexer(expression).lex().tokens, [...CONTEXT_NAMES], [...functions.values()]).parse();
  const scope = new data.Dictionary(
    ...CONTEXT_NAMES.map((name) => ({
      key: name,
      value: toData((contexts as unknown as Record<string, unknown>)[name] ?? {}),
    })),
  );
  return new Evaluator(tree, scope, functions).evaluate();
}

/**
 * A template's segments (literal text and `${{ }}` expressions) as one expression, split as GitHub's template reader
 * splits them: `}}` closes an expression only outside a single-quoted string.
 */
function templateExpression(value: string): string | undefined {
  const literals: string[] = [];
  const expressions: string[] = [];
  let rest = value;
  for (let open = rest.indexOf('${{'); open >= 0; open = rest.indexOf('${{')) {
    let inString = false;
    let close = -1;
    for (let i = open + 3; i < rest.length; i++) {
      if (rest[i] === "'") inString = !inString;
      else if (!inString && rest[i] === '}' && rest[i - 1] === '}') {
        close = i;
        break;
      }
    }
    if (close < 0) throw new Error(`an unclosed \${{ in ${JSON.stringify(value)}`);
    literals.push(rest.slice(0, open));
    expressions.push(rest.slice(open + 3, close - 1).trim());
    rest = rest.slice(close + 1);
  }
  if (expressions.length === 0) return undefined;
  literals.push(rest);
  if (expressions.length === 1 && literals[0] === '' && literals[1] === '') return expressions[0];
  const format = literals
    .map(
      (text, i) =>
        text.replace(/'/g, "''").replace(/\{/g, '{{').replace(/\}/g, '}}') + (i < expressions.length ? `{${i}}` : ''),
    )
    .join('');
  return `format('${format}'${expressions.map((expression) => `, ${expression}`).join('')})`;
}

/**
 * The expression a `${{ }}` token stands for. The parser (a language service, made for positions) splits a
 * multi-line block scalar's raw source — indentation and line breaks included — instead of its YAML value, so
 * `if: >-` over two lines becomes `format('      {0}\n', …)`, a non-empty string that is always true. GitHub
 * evaluates the folded value; so does this: the block is read back through YAML and split the way the parser splits
 * single-line values.
 */
function expressionOf(token: BasicExpressionToken): string {
  if (!token.blockScalarHeader || token.source === undefined) return token.expression;
  const folded = parseYaml(`value: ${token.blockScalarHeader}\n${token.source}`) as { value: string };
  return templateExpression(folded.value) ?? `'${folded.value.replace(/'/g, "''")}'`;
}

/** A token's value: literals as they are, expressions evaluated, mappings and sequences element by element. */
export function evaluateToken(token: TemplateToken | undefined, contexts: Contexts, status?: JobStatus): unknown {
  if (!token) return undefined;
  if (isBasicExpression(token))
    return JSON.parse(
      JSON.stringify(evaluateExpression(expressionOf(token), contexts, status), data.replacer),
    ) as unknown;
  if (isString(token) || isNumber(token) || isBoolean(token)) return token.value;
  if (isSequence(token))
    return [...Array(token.count).keys()].map((i) => evaluateToken(token.get(i), contexts, status));
  if (isMapping(token)) {
    const result: Record<string, unknown> = {};
    for (const pair of token)
      result[String(evaluateToken(pair.key, contexts, status))] = evaluateToken(pair.value, contexts, status);
    return result;
  }
  return null;
}

/** A value as the runner turns it into a string (an input, an env value, a script): null is '', true is 'true'. */
export function asString(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value, null, 2);
}

export function evaluateString(token: TemplateToken | undefined, contexts: Contexts, status?: JobStatus): string {
  return asString(evaluateToken(token, contexts, status));
}

/** A mapping of strings (env:, with:), each value evaluated. */
export function evaluateMapping(
  token: TemplateToken | undefined,
  contexts: Contexts,
  status?: JobStatus,
): Record<string, string> {
  const result: Record<string, string> = {};
  if (!token || !isMapping(token)) return result;
  for (const pair of token)
    result[asString(evaluateToken(pair.key, contexts))] = evaluateString(pair.value, contexts, status);
  return result;
}

/**
 * Whether an `if:` holds. `raw` is the key as written (read from the token tree so a block scalar is evaluated as
 * GitHub folds it); without one the condition is `success()`. A condition with no status function is wrapped in
 * `success() && (…)` by the parser's own rule.
 */
export function conditionHolds(raw: TemplateToken | undefined, contexts: Contexts, status: JobStatus): boolean {
  let condition = 'success()';
  if (raw && isBasicExpression(raw)) condition = ensureStatusFunction(expressionOf(raw), raw.definitionInfo);
  else if (raw && isString(raw) && raw.value.trim())
    condition = ensureStatusFunction(raw.value.trim(), raw.definitionInfo);
  else if (raw && isBoolean(raw)) condition = String(raw.value);
  return !falsy(evaluateExpression(condition, contexts, status));
}
