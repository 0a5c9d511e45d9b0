"""The ``lifecircle`` commands about where the layers live and how they are served:
``store init``, ``store copy`` and ``serve``.

:mod:`geo.cli` adds them to its parser (:func:`add_parsers`) and runs them (:data:`COMMANDS`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from geo.settings import Settings, hand_to_workers

__all__ = ["COMMANDS", "EXAMPLES", "add_parsers"]

EXAMPLES = {
    "store": [
        "lifecircle store init --store postgresql://lifecircle:…@db:5432/lifecircle",
        "lifecircle store copy data/layers postgresql://lifecircle:…@db:5432/lifecircle",
        "lifecircle store copy postgresql://lifecircle:…@db:5432/lifecircle backup/layers",
    ],
    "serve": [
        "lifecircle serve                          # http://127.0.0.1:8000/",
        "LIFECIRCLE_API_TOKEN=… lifecircle serve --host 0.0.0.0 --port 8080",
        "lifecircle serve --store postgresql://lifecircle:…@db/lifecircle --workers 4",
    ],
}


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], data_help: str) -> None:
    """Add ``store`` and ``serve`` to the ``lifecircle`` subcommands.

    Parameters
    ----------
    sub : argparse subparsers
        The ``lifecircle`` parser's subcommands.
    data_help : str
        The help text of ``--data``/``--store``, the same for every command.

    Returns
    -------
    None
    """
    p = sub.add_parser(
        "store",
        help="数据库存储：初始化、复制 / set up a database store, copy layers between stores",
        description="init：在 PostgreSQL/PostGIS 数据库中建表（执行 geo/layers/migrations/*.sql，"
        "可重复执行）；copy SRC DST：校验后复制各图层和路网（目录 ↔ 数据库），失败则不做任何改动。 / "
        "init: create the tables in a PostGIS database (the SQL files of geo/layers/migrations, "
        "each once); copy SRC DST: validate, then copy every layer and the streets between "
        "a folder and a database, either way; a failed copy changes nothing.",
    )
    p.add_argument("action", choices=("init", "copy"), help="init 或 copy")
    p.add_argument(
        "source", nargs="?", metavar="SRC", help="copy 的来源 / copy from (folder or URL)"
    )
    p.add_argument("target", nargs="?", metavar="DST", help="copy 的目标 / copy to (folder or URL)")
    p.add_argument("--data", "--store", dest="data", metavar="STORE", help=data_help)

    p = sub.add_parser(
        "serve",
        help="启动服务 / start the web service and map",
        description="启动 HTTP 服务（地图、API）/ Start the HTTP service: map at /, API at "
        "/collections, docs at /docs. --workers N 启动 N 个进程（数据库存储时，多台主机也可共用）"
        " / --workers N runs N processes (with a database store, several hosts may share it).",
    )
    p.add_argument("--data", "--store", dest="data", metavar="STORE", help=data_help)
    p.add_argument("--host", default="127.0.0.1", help="监听地址 / host (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="端口 / port (default 8000)")
    p.add_argument(
        "--workers", type=int, default=1, help="服务进程数 / worker processes (default 1)"
    )


def _cmd_store(args: argparse.Namespace, settings: Settings) -> int:
    from geo.layers.store import open_store
    from geo.layers.transfer import copy_store, init_store

    if args.action == "init":
        url = str(args.source or settings.data)
        store = open_store(url)
        if not url.lower().startswith(("postgresql:", "postgres:")):
            print(f"lifecircle: {store.url} 是目录，无需初始化 / is a folder: nothing to set up")
            return 0
        applied = init_store(url)
        done = ", ".join(applied) if applied else "已是最新 / already up to date"
        print(f"{store.url}: {done}")
        return 0
    if not args.source or not args.target:
        raise SystemExit("lifecircle: store copy 需要 SRC DST / store copy needs SRC and DST")
    target = args.target
    if ":" not in target.split("/")[0] or len(target.split(":")[0]) < 2:
        Path(target).mkdir(parents=True, exist_ok=True)  # a folder target may be new
    counts = copy_store(args.source, target)
    summary = ", ".join(f"{layer} {n}" for layer, n in counts.items())
    print(f"已复制 / copied {open_store(args.source).url} → {open_store(target).url}: {summary}")
    return 0


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import logging

    import uvicorn

    from api.main import create_app

    # One access line per request from the service's own middleware (with request ids);
    # uvicorn's duplicate access log is turned off.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.workers > 1:
        # An app factory takes no arguments: the workers read the settings handed to them.
        hand_to_workers(settings)
        print(f"lifecircle: http://{args.host}:{args.port}/  ({args.workers} workers)")
        # A worker that misses uvicorn's health check (default 5 s) is killed and replaced:
        # importing geopandas and numba on a busy machine can take longer than that.
        uvicorn.run("api.main:create_worker_app", factory=True, workers=args.workers,
                    host=args.host, port=args.port, access_log=False,
                    timeout_worker_healthcheck=60)  # fmt: skip
        return 0
    app = create_app(settings)  # the settings go in whole; nothing is passed through os.environ
    print(
        f"lifecircle: http://{args.host}:{args.port}/  (数据 / data: {app.state.layers.store.url})"
    )
    uvicorn.run(app, host=args.host, port=args.port, access_log=False)
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "store": _cmd_store,
    "serve": _cmd_serve,
}
