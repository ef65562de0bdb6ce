"""`tollgate` command line: `tollgate up` runs the whole suite in the foreground and restarts a
process that dies; `tollgate status` shows those processes; `tollgate me`, `teams`, `members`,
`projects` and `keys` drive the admin API of a running Tollgate; `facts` lists and replays the
facts the services could not process."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from tollgate_cli import billing_commands, facts_commands, limits_commands, log_commands, status
from tollgate_cli.admin_commands import add_commands, connection_options
from tollgate_cli.stack import Ports, Stack, StackConfig, StackError
from tollgate_cli.supervisor import Supervisor


def _up(_args: argparse.Namespace) -> int:
    env = dict(os.environ)
    config = StackConfig(
        data_dir=Path(env.get("TOLLGATE_DATA_DIR", ".tollgate")),
        ports=Ports.from_env(env),
        nats_url=env.get("TOLLGATE_NATS_URL") or None,
        envoy_concurrency=int(env.get("TOLLGATE_ENVOY_CONCURRENCY", "1")),
    )
    stack = Stack(config)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print("Starting Tollgate ...", flush=True)
    try:
        stack.start()
    except StackError as exc:
        print(f"tollgate: {exc}", file=sys.stderr)
        return 1
    print(
        f"Tollgate is up.\n"
        f"  OpenAI base URL : {stack.base_url}\n"
        f"  bootstrap key   : {stack.bootstrap_key_source()}\n"
        f"  logs            : {stack.log_dir}/\n"
        f"Press Ctrl-C to stop.",
        flush=True,
    )
    try:
        Supervisor(stack).run(stop)
    finally:
        print("Stopping Tollgate ...", flush=True)
        stack.stop()
        print("Stopped.", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    common = connection_options()
    parser = argparse.ArgumentParser(
        prog="tollgate", description="Tollgate AI Gateway", parents=[common]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="run the whole suite in the foreground (make run)")
    up.set_defaults(func=_up)
    add_commands(commands, common)
    log_commands.add_commands(commands, common)
    billing_commands.add_commands(commands, common)
    limits_commands.add_commands(commands, common)
    facts_commands.add_commands(commands)
    status.add_command(commands, common)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
