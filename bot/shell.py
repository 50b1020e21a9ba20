"""The terminal adapter: each line goes through the same dispatch path as a Slack mention."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TextIO

from agent.question import Question
from bot.dispatch import answer
from bot.runtime import Runtime
from text.mrkdwn import plain

BANNER = """sitrep shell: Slack is not connected (SLACK_BOT_TOKEN and SLACK_APP_TOKEN are not set).
To connect: create the Slack app from manifest.json (see README, "Slack app setup"), set both tokens, restart.
Type a question as you would after @sitrep, `help` for what I can do, `exit` to leave."""

EXIT_WORDS = {"exit", "quit", ":q"}


async def run_shell(runtime: Runtime, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Answer each line of stdin until EOF or `exit`; nothing runs beside it (its Runtime starts nothing)."""
    services = runtime.services
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty()
    print(BANNER, file=stdout, flush=True)
    team = await services.team_for(None)
    session = f"{time.time():.6f}"  # one shell session is one thread: follow-up questions see earlier ones
    while True:
        if interactive:
            print("sitrep> ", end="", file=stdout, flush=True)
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        text = line.strip()
        if text.lower() in EXIT_WORDS:
            break
        if not text and interactive:
            continue
        try:
            question = Question(text=text, team=team, source="shell", channel="shell", thread_ts=session)
            reply = await answer(runtime, question)
            print(reply.terminal or plain(reply.text), file=stdout, flush=True)
        except Exception as exc:  # the shell keeps going, like a listener would
            print(f"error: {exc}", file=stdout, flush=True)
        print("", file=stdout, flush=True)
    return 0
