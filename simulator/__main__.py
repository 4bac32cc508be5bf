"""python -m simulator --port 8765 [--host 127.0.0.1] [--scenario default|NAME|path.json] [--seed N] [--speed X]"""

from __future__ import annotations

import argparse
import sys

from simulator.server import bind_socket, make_server
from simulator.world import World


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m simulator", description="AIMS ADF/Databricks/LLM simulator")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1", help="loopback only (default 127.0.0.1)")
    parser.add_argument("--scenario", default="default", help="built-in name (default, bulk, quiet) or a .json path")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--speed", type=float, default=None, help="sim seconds per real second")
    parser.add_argument("--notify-databricks", default=None, metavar="URL")
    parser.add_argument("--notify-azure-monitor", default=None, metavar="URL")
    parser.add_argument("--notify-adf-callback", default=None, metavar="URL", help="with notify.adf_callback set")
    parser.add_argument("--notify-secret", default=None, metavar="S")
    parser.add_argument(
        "--notify-secret-file", default=None, metavar="PATH", help="read the secret from a file (keeps it out of ps)"
    )
    parser.add_argument("--log-level", default="warning")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        sock = bind_socket(args.host, args.port)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    world = World(args.scenario, seed=args.seed, speed=args.speed)
    if args.notify_secret_file:
        try:
            with open(args.notify_secret_file, encoding="utf-8") as handle:
                args.notify_secret = handle.read().strip()
        except OSError as exc:
            print(f"error: cannot read --notify-secret-file: {exc}", file=sys.stderr)
            return 2
    notify = {
        "databricks_url": args.notify_databricks,
        "azure_monitor_url": args.notify_azure_monitor,
        "adf_callback_url": args.notify_adf_callback,
        "secret": args.notify_secret,
    }
    world.set_notify({k: v for k, v in notify.items() if v})
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host

    def ready() -> None:
        print(f"simulator listening on http://{host}:{port}", flush=True)

    make_server(world, ready, args.log_level).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
