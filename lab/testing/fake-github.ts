import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local GitHub REST server (loopback only) implementing the endpoints perf-lab
 * calls, with in-memory state and injectable failures, for tests.
 */
export interface FakeComment {
  id: number;
  body: string;
  user: { login: string; type: string };
  issueNumber: number;
}

/** A workflow run's artifact: the zip upload-artifact made (the rehearsal's stand-in stores it here). */
export interface FakeArtifact {
  id: number;
  runId: number;
  name: string;
  zip: Buffer;
  /** `sha256:<hex>` of the zip, as GitHub lists it (download-artifact checks it). */
  digest: string;
  createdAt: string;
}

/** An Actions cache entry as GET /repos/{owner}/{repo}/actions/caches lists it. */
export interface FakeActionsCache {
  id: number;
  ref: string;
  key: string;
  version: string;
  last_accessed_at: string;
  created_at: string;
  size_in_bytes: number;
}

/** Where the fake's /actions/caches endpoints read and delete a repository's caches (the rehearsal's cache store). */
export interface FakeCacheStore {
  /** The repository's entries; undefined for a repository the store does not hold (404). */
  list(repository: string): FakeActionsCache[] | undefined;
  remove(repository: string, ids: readonly number[]): void;
}

interface Failure {
  method: string;
  path: RegExp;
  status: number;
  headers: Record<string, string>;
  body: unknown;
  times: number;
}

/** What a request to the fake may carry (each route checks the fields it needs). */
interface RequestBody {
  title?: string;
  body?: unknown;
  head?: string;
  base?: string;
}

export class FakeGitHub {
  readonly comments: FakeComment[] = [];
  readonly pulls = new Map<number, { headSha: string; headRepo: string }>();
  readonly runs = new Map<number, { headSha: string; event: string }>();
  readonly pullRequestsCreated: Array<{ head: string; base: string; title: string }> = [];
  readonly issues: Array<{ number: number; title: string; body: string; state: string }> = [];
  readonly requests: Array<{ method: string; path: string; search: string; authorization: string | undefined }> = [];
  readonly artifacts: FakeArtifact[] = [];
  /** The Actions caches (none when unset): GET and DELETE /repos/{owner}/{repo}/actions/caches. */
  cacheStore: FakeCacheStore | undefined;
  /** The login that comments are created as. */
  commenter = 'github-actions[bot]';
  private failures: Failure[] = [];
  private nextId = 1000;
  private server: Server | undefined;
  url = '';

  failNext(
    method: string,
    path: RegExp,
    status: number,
    options: { times?: number; headers?: Record<string, string>; body?: unknown } = {},
  ): void {
    this.failures.push({
      method,
      path,
      status,
      headers: options.headers ?? {},
      body: options.body ?? { message: `injected ${status}` },
      times: options.times ?? 1,
    });
  }

  /** Stores a workflow run's artifact (listed and downloaded through the REST endpoints download-artifact calls). */
  addArtifact(runId: number, name: string, zip: Buffer): FakeArtifact {
    const digest = `sha256:${createHash('sha256').update(zip).digest('hex')}`;
    const artifact = { id: this.nextId++, runId, name, zip, digest, createdAt: new Date().toISOString() };
    this.artifacts.push(artifact);
    return artifact;
  }

  removeArtifact(id: number): void {
    const index = this.artifacts.findIndex((artifact) => artifact.id === id);
    if (index >= 0) this.artifacts.splice(index, 1);
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    // The fields the fake reads; Octokit sends JSON objects.
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as RequestBody) : undefined;
    const url = new URL(request.url ?? '/', this.url);
    const method = request.method ?? 'GET';
    this.requests.push({
      method,
      path: url.pathname,
      search: url.search,
      authorization: request.headers.authorization,
    });
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(payload));
    };
    const failure = this.failures.find((f) => f.method === method && f.path.test(url.pathname) && f.times > 0);
    if (failure) {
      failure.times--;
      send(failure.status, failure.body, failure.headers);
      return;
    }
    let match: RegExpExecArray | null;
    if (/^\/repos\/[^/]+\/[^/]+\/issues$/.test(url.pathname)) {
      if (method === 'GET')
        return send(
          200,
          this.issues
            .filter((issue) => issue.state === (url.searchParams.get('state') ?? 'open'))
            .map((issue) => this.issueJson(issue)),
        );
      if (method === 'POST') {
        if (!body?.title) return send(422, { message: 'Validation Failed' });
        const text = typeof body.body === 'string' ? body.body : '';
        const issue = { number: 2000 + this.issues.length, title: body.title, body: text, state: 'open' };
        this.issues.push(issue);
        return send(201, this.issueJson(issue));
      }
    }
    if ((match = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)$/.exec(url.pathname)) && method === 'PATCH') {
      const issue = this.issues.find((i) => i.number === Number(match![1]));
      if (!issue) return send(404, { message: 'Not Found' });
      if (typeof body?.body === 'string') issue.body = body.body;
      return send(200, this.issueJson(issue));
    }
    if ((match = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/.exec(url.pathname))) {
      const issueNumber = Number(match[1]);
      if (!this.pulls.has(issueNumber) && !this.issues.some((issue) => issue.number === issueNumber))
        return send(404, { message: 'Not Found' });
      if (method === 'GET') {
        const perPage = Number(url.searchParams.get('per_page') ?? 30);
        const page = Number(url.searchParams.get('page') ?? 1);
        const all = this.comments.filter((comment) => comment.issueNumber === issueNumber);
        const slice = all.slice((page - 1) * perPage, page * perPage);
        const headers: Record<string, string> = {};
        if (page * perPage < all.length)
          headers.link = `<${this.url}${url.pathname}?per_page=${perPage}&page=${page + 1}>; rel="next"`;
        return send(
          200,
          slice.map((comment) => this.commentJson(comment)),
          headers,
        );
      }
      if (method === 'POST') {
        if (typeof body?.body !== 'string' || body.body.length > 65_536)
          return send(422, { message: 'Validation Failed: body is too long (maximum is 65536 characters)' });
        const comment = {
          id: this.nextId++,
          body: body.body,
          user: { login: this.commenter, type: this.commenter.endsWith('[bot]') ? 'Bot' : 'User' },
          issueNumber,
        };
        this.comments.push(comment);
        return send(201, this.commentJson(comment));
      }
    }
    if ((match = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(url.pathname)) && method === 'PATCH') {
      const comment = this.comments.find((c) => c.id === Number(match![1]));
      if (!comment) return send(404, { message: 'Not Found' });
      if (typeof body?.body !== 'string' || body.body.length > 65_536)
        return send(422, { message: 'Validation Failed' });
      comment.body = body.body;
      return send(200, this.commentJson(comment));
    }
    if (/^\/repos\/[^/]+\/[^/]+\/pulls$/.test(url.pathname) && method === 'POST') {
      if (!body?.head || !body?.base || !body?.title) return send(422, { message: 'Validation Failed' });
      this.pullRequestsCreated.push({ head: body.head, base: body.base, title: body.title });
      return send(201, {
        number: 900 + this.pullRequestsCreated.length,
        html_url: `${this.url}/pull/${900 + this.pullRequestsCreated.length}`,
      });
    }
    if ((match = /^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)$/.exec(url.pathname)) && method === 'GET') {
      const pull = this.pulls.get(Number(match[1]));
      if (!pull) return send(404, { message: 'Not Found' });
      return send(200, { number: Number(match[1]), head: { sha: pull.headSha, repo: { full_name: pull.headRepo } } });
    }
    if ((match = /^\/repos\/[^/]+\/[^/]+\/actions\/runs\/(\d+)$/.exec(url.pathname)) && method === 'GET') {
      const run = this.runs.get(Number(match[1]));
      if (!run) return send(404, { message: 'Not Found' });
      return send(200, { id: Number(match[1]), head_sha: run.headSha, event: run.event });
    }
    if ((match = /^\/repos\/([^/]+\/[^/]+)\/actions\/runs\/(\d+)\/artifacts$/.exec(url.pathname)) && method === 'GET') {
      const name = url.searchParams.get('name');
      const repository = match[1]!;
      const listed = this.artifacts.filter(
        (artifact) => artifact.runId === Number(match![2]) && (name === null || artifact.name === name),
      );
      return send(200, {
        total_count: listed.length,
        artifacts: listed.map((artifact) => this.artifactJson(artifact, repository)),
      });
    }
    if ((match = /^\/repos\/[^/]+\/[^/]+\/actions\/artifacts\/(\d+)\/zip$/.exec(url.pathname)) && method === 'GET') {
      const artifact = this.artifacts.find((candidate) => candidate.id === Number(match![1]));
      if (!artifact) return send(404, { message: 'Not Found' });
      // GitHub answers with a redirect to blob storage, which needs no token.
      response.writeHead(302, { location: `${this.url}/_blobs/artifacts/${artifact.id}.zip` });
      response.end();
      return;
    }
    if ((match = /^\/_blobs\/artifacts\/(\d+)\.zip$/.exec(url.pathname)) && method === 'GET') {
      const artifact = this.artifacts.find((candidate) => candidate.id === Number(match![1]));
      if (!artifact) return send(404, { message: 'Not Found' });
      response.writeHead(200, { 'content-type': 'application/zip', 'content-length': String(artifact.zip.length) });
      response.end(artifact.zip);
      return;
    }
    if ((match = /^\/repos\/([^/]+\/[^/]+)\/actions\/caches$/.exec(url.pathname)) && ['GET', 'DELETE'].includes(method))
      return this.caches(method, match[1]!, url, send);
    send(404, { message: `Not Found: ${method} ${url.pathname}` });
  }

  /**
   * GET: the caches whose key starts with `key` (and of `ref`), sorted by `sort` (last_accessed_at, created_at or
   * size_in_bytes; last_accessed_at by default) in `direction` (desc by default), paged by per_page/page with a Link
   * header. DELETE: every cache with exactly that `key` (and `ref`), 404 when there is none.
   */
  private caches(
    method: string,
    repository: string,
    url: URL,
    send: (status: number, payload: unknown, headers?: Record<string, string>) => void,
  ): void {
    const all = this.cacheStore ? this.cacheStore.list(repository) : [];
    if (!all) return send(404, { message: 'Not Found' });
    const key = url.searchParams.get('key');
    const ref = url.searchParams.get('ref');
    if (method === 'DELETE') {
      if (!key) return send(422, { message: 'Validation Failed: key is required' });
      const matching = all.filter((cache) => cache.key === key && (ref === null || cache.ref === ref));
      if (matching.length === 0) return send(404, { message: 'Not Found' });
      this.cacheStore?.remove(
        repository,
        matching.map((cache) => cache.id),
      );
      return send(200, { total_count: matching.length, actions_caches: matching });
    }
    const sort = url.searchParams.get('sort') ?? 'last_accessed_at';
    const direction = url.searchParams.get('direction') ?? 'desc';
    if (!['last_accessed_at', 'created_at', 'size_in_bytes'].includes(sort) || !['asc', 'desc'].includes(direction))
      return send(422, { message: 'Validation Failed: sort or direction' });
    const field = sort as 'last_accessed_at' | 'created_at' | 'size_in_bytes';
    const sign = direction === 'asc' ? 1 : -1;
    const listed = all
      .filter((cache) => (key === null || cache.key.startsWith(key)) && (ref === null || cache.ref === ref))
      // Ties (the same millisecond) by id: the later entry counts as the later one.
      .sort((a, b) => sign * (a[field] < b[field] ? -1 : a[field] > b[field] ? 1 : a.id - b.id));
    const perPage = Math.min(Number(url.searchParams.get('per_page') ?? 30), 100);
    const page = Number(url.searchParams.get('page') ?? 1);
    const headers: Record<string, string> = {};
    if (page * perPage < listed.length) {
      const next = new URL(url);
      next.searchParams.set('page', String(page + 1));
      headers.link = `<${this.url}${next.pathname}${next.search}>; rel="next"`;
    }
    send(
      200,
      { total_count: listed.length, actions_caches: listed.slice((page - 1) * perPage, page * perPage) },
      headers,
    );
  }

  private artifactJson(artifact: FakeArtifact, repository: string) {
    return {
      id: artifact.id,
      name: artifact.name,
      size_in_bytes: artifact.zip.length,
      url: `${this.url}/repos/${repository}/actions/artifacts/${artifact.id}`,
      archive_download_url: `${this.url}/repos/${repository}/actions/artifacts/${artifact.id}/zip`,
      digest: artifact.digest,
      expired: false,
      created_at: artifact.createdAt,
      workflow_run: { id: artifact.runId },
    };
  }

  private issueJson(issue: { number: number; title: string; body: string; state: string }) {
    return {
      number: issue.number,
      title: issue.title,
      body: issue.body,
      state: issue.state,
      html_url: `${this.url}/issues/${issue.number}`,
    };
  }

  private commentJson(comment: FakeComment) {
    return { id: comment.id, body: comment.body, user: comment.user, html_url: `${this.url}/comment/${comment.id}` };
  }
}
