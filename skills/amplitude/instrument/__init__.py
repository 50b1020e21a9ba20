"""Instrument a linked repository with the tracking plan: scan it through GitHub's API, find the Next.js API
routes and agent runners with tree-sitter, edit them by parsed position, and open one pull request.

`syntax` (grammars, loaded at first use), `shapes` and `exits` (functions, route handlers and their error exits),
`points` (what a parsed file offers), `edits` (text edits and the re-parse check), `scaffold` (the init module
and package.json), `scan` (the default branch through the git tree and blob APIs, bounded), `plan` (the whole
change), `render` (the pull request's title and body, the terminal preview), `publish` (checks, branch, commit,
pull request), `claude` (Claude's proposal, through the same checks), `flow` (all of it, for Slack and `cli`).
"""
