"""API clients of the code-hosting platforms (GitHub via PyGithub, GitLab via python-gitlab).

`base` holds what both share (approval lines, issue-backed RFC stores, merging platform decisions into the
gate's); each client is imported only by the commands that need it.
"""
