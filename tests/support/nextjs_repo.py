"""A realistic Next.js repository for the instrumentation tests: app-router and pages-router API routes, an agent
runner (with a multi-line prompt template), a route that already tracks API Error, a pages route written in odd
formatting (one-liners, an `if` without braces, no semicolons, tabs), a client component, a page, and a file that
does not parse. `files()` is the default branch; EXPECTED_* are the edits the pull request must make, exactly."""

from __future__ import annotations

PACKAGE_JSON = """{
  "name": "mochacare-web",
  "private": true,
  "scripts": {
    "dev": "next dev",
    "build": "next build"
  },
  "dependencies": {
    "next": "14.2.3",
    "openai": "4.47.1",
    "react": "18.3.1",
    "react-dom": "18.3.1"
  },
  "devDependencies": {
    "typescript": "5.4.5"
  }
}
"""

RUN_ROUTE = """import { NextResponse } from 'next/server';
import { runAgent } from '@/lib/agents/runner';

export async function POST(req: Request, { params }: { params: { id: string } }) {
  const body = await req.json();
  if (!body.input) {
    return NextResponse.json({ error: 'input is required' }, { status: 400 });
  }
  try {
    const result = await runAgent(params.id, body.input, body.userId);
    return NextResponse.json(result);
  } catch (err) {
    console.error('agent run failed', err);
    return NextResponse.json({ error: 'agent failed' }, { status: 500 });
  }
}
"""

EXPECTED_RUN_ROUTE = """import { NextResponse } from 'next/server';
import { runAgent } from '@/lib/agents/runner';
import { trackApiError } from '../../../../../lib/amplitude';

export async function POST(req: Request, { params }: { params: { id: string } }) {
  const body = await req.json();
  if (!body.input) {
    await trackApiError('/api/agents/[id]/run', 400);
    return NextResponse.json({ error: 'input is required' }, { status: 400 });
  }
  try {
    const result = await runAgent(params.id, body.input, body.userId);
    return NextResponse.json(result);
  } catch (err) {
    console.error('agent run failed', err);
    await trackApiError('/api/agents/[id]/run', 500, err);
    return NextResponse.json({ error: 'agent failed' }, { status: 500 });
  }
}
"""

HEALTH_ROUTE = """export const dynamic = 'force-dynamic';

export function GET() {
  return Response.json({ ok: true });
}
"""

CHECKOUT_ROUTE = """import { NextResponse } from 'next/server';
import { track } from '@amplitude/analytics-node';

export async function POST(req: Request) {
  try {
    return NextResponse.json(await req.json());
  } catch (err) {
    track('API Error', { endpoint: '/api/checkout', status_code: 500 }, { device_id: 'server-side' });
    return NextResponse.json({ error: 'checkout failed' }, { status: 500 });
  }
}
"""

USERS_ROUTE = """import type { NextApiRequest, NextApiResponse } from 'next';
import { findUser } from '../../../lib/users';

export default async function handler(req: NextApiRequest, res: NextApiResponse) {
  const user = await findUser(String(req.query.uid));
  if (!user) {
    res.status(404).json({ error: 'no such user' });
    return;
  }
  if (user.banned) throw new Error('banned user ' + user.id);
  res.status(200).json(user);
}
"""

EXPECTED_USERS_ROUTE = """import type { NextApiRequest, NextApiResponse } from 'next';
import { findUser } from '../../../lib/users';
import { trackApiError } from '../../../lib/amplitude';

export default async function handler(req: NextApiRequest, res: NextApiResponse) {
  const user = await findUser(String(req.query.uid));
  if (!user) {
    await trackApiError('/api/users/[uid]', 404);
    res.status(404).json({ error: 'no such user' });
    return;
  }
  if (user.banned) { await trackApiError('/api/users/[uid]', 500); throw new Error('banned user ' + user.id); }
  res.status(200).json(user);
}
"""

# odd formatting: tabs, no semicolons, an if without braces, a try/catch on one line
LEGACY_ROUTE = """import {runAgent} from "../../../lib/agents/runner"
export default async function handler(req,res){
\tif(req.method!=="POST")return res.status(405).end()
\ttry{const out=await runAgent(req.body.agentId,req.body.input);res.status(200).json(out)}\
catch(e){res.status(500).json({error:String(e)})}
}
"""

EXPECTED_LEGACY_ROUTE = """import {runAgent} from "../../../lib/agents/runner"
import { trackApiError } from '../../../lib/amplitude';
export default async function handler(req,res){
\tif(req.method!=="POST"){ await trackApiError('/api/legacy/summarize', 405); return res.status(405).end() }
\ttry{const out=await runAgent(req.body.agentId,req.body.input);res.status(200).json(out)}catch(e){await \
trackApiError('/api/legacy/summarize', 500, e); res.status(500).json({error:String(e)})}
}
"""

RUNNER = """import OpenAI from 'openai';

export const AGENT_TIMEOUT_MS = 60_000;

const client = new OpenAI();

export interface AgentResult {
  output: string;
  tokensUsed: number;
}

export async function runAgent(agentId: string, input: string, userId?: string): Promise<AgentResult> {
  const prompt = `You are agent ${agentId}.
Answer the user's request:
${input}`;
  const completion = await client.chat.completions.create(
    { model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] },
    { timeout: AGENT_TIMEOUT_MS },
  );
  return {
    output: completion.choices[0]?.message?.content ?? '',
    tokensUsed: completion.usage?.total_tokens ?? 0,
  };
}
"""

EXPECTED_RUNNER = """import OpenAI from 'openai';
import { trackAgentRun } from '../amplitude';

export const AGENT_TIMEOUT_MS = 60_000;

const client = new OpenAI();

export interface AgentResult {
  output: string;
  tokensUsed: number;
}

export async function runAgent(agentId: string, input: string, userId?: string): Promise<AgentResult> {
  return trackAgentRun({ agentId, agentType: 'runAgent', userId, timeoutMs: AGENT_TIMEOUT_MS }, async () => {
    const prompt = `You are agent ${agentId}.
Answer the user's request:
${input}`;
    const completion = await client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] },
      { timeout: AGENT_TIMEOUT_MS },
    );
    return {
      output: completion.choices[0]?.message?.content ?? '',
      tokensUsed: completion.usage?.total_tokens ?? 0,
    };
  });
}
"""

EXPECTED_PACKAGE_JSON = PACKAGE_JSON.replace(
    '  "dependencies": {\n', '  "dependencies": {\n    "@amplitude/analytics-node": "^1.5.0",\n'
)

USERS_LIB = """export async function findUser(uid: string) {
  return { id: uid, banned: false };
}
"""

CHAT = """'use client';

export default function Chat() {
  return <div>chat</div>;
}
"""

PAGE = """export default function Home() {
  return <main>mochacare</main>;
}
"""

BROKEN = """export async function GET( {
  return new Response('x', { status: 500 })
"""


def files() -> dict[str, str]:
    """The default branch."""
    return {
        "package.json": PACKAGE_JSON,
        "package-lock.json": '{"name": "mochacare-web", "lockfileVersion": 3}\n',
        "tsconfig.json": '{"compilerOptions": {"paths": {"@/*": ["./*"]}}}\n',
        "README.md": "# mochacare web\n",
        "app/page.tsx": PAGE,
        "app/api/agents/[id]/run/route.ts": RUN_ROUTE,
        "app/api/health/route.ts": HEALTH_ROUTE,
        "app/api/checkout/route.ts": CHECKOUT_ROUTE,
        "app/api/broken/route.ts": BROKEN,
        "pages/api/users/[uid].ts": USERS_ROUTE,
        "pages/api/legacy/summarize.js": LEGACY_ROUTE,
        "lib/agents/runner.ts": RUNNER,
        "lib/users.ts": USERS_LIB,
        "components/Chat.tsx": CHAT,
        "node_modules/left-pad/index.js": "module.exports = () => {}\n",
    }


EXPECTED_EDITS = {
    "app/api/agents/[id]/run/route.ts": EXPECTED_RUN_ROUTE,
    "pages/api/users/[uid].ts": EXPECTED_USERS_ROUTE,
    "pages/api/legacy/summarize.js": EXPECTED_LEGACY_ROUTE,
    "lib/agents/runner.ts": EXPECTED_RUNNER,
    "package.json": EXPECTED_PACKAGE_JSON,
}
INIT_PATH = "lib/amplitude.ts"
