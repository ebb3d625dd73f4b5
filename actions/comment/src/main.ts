import { commentOnPullRequest } from '../../../lab/github/index.js';
import { parsePositiveInt } from '../../../lab/cli/parse.js';
import { parsedInput, requiredInput, runAction, type ActionCore } from '../../shared.js';

/** The comment action's inputs (action.yml), read once. */
export interface CommentInputs {
  artifactDir: string;
  repository: string;
  runId: number;
  token: string;
  author: string;
  fullReportUrl?: string;
}

function readCommentInputs(actionCore: ActionCore): CommentInputs {
  const required = (name: string) => requiredInput(actionCore, 'comment', name);
  const token = required('token');
  actionCore.setSecret(token);
  return {
    artifactDir: required('artifact'),
    repository: required('repository'),
    runId: parsedInput(actionCore, 'comment', 'run-id', parsePositiveInt),
    token,
    author: required('author'),
    fullReportUrl: actionCore.getInput('full-report-url') || undefined,
  };
}

/** Validates the perf-pr artifact, checks its PR against the run, and creates or updates the one sticky comment. */
export async function run(actionCore: ActionCore): Promise<void> {
  await runAction(actionCore, async () => {
    const inputs = readCommentInputs(actionCore);
    const { outcome, prNumber } = await actionCore.group('perf-lab comment', () =>
      commentOnPullRequest({
        ...inputs,
        apiUrl: process.env.GITHUB_API_URL,
        summaryPath: process.env.GITHUB_STEP_SUMMARY,
      }),
    );
    // `pr` is only ever a number GitHub confirmed for this run, never the artifact's own claim.
    if (outcome.action === 'skipped') {
      actionCore.notice(outcome.reason);
      actionCore.setOutput('pr', '');
      actionCore.setOutput('comment-url', '');
      return;
    }
    actionCore.setOutput('pr', String(prNumber));
    actionCore.setOutput('comment-url', outcome.url);
  });
}
