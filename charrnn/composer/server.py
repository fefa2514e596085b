"""`charrnn serve`: load the model once and serve the composer page on uvicorn.

    charrnn serve [--model DIR] [--host 127.0.0.1] [--port 8000] [--tunebook FILE]
    python -m charrnn serve --model runs/folk --port 8001

Stop it with Ctrl-C: every tunebook write is already committed; the rendered media (a folder
beside the tunebook, e.g. tunebook-media/) are removed, and a killed server's are cleared at the
next start, so nothing is left in /tmp.
"""
import os
from pathlib import Path


def default_tunebook():
    """$XDG_DATA_HOME/charrnn/tunebook.sqlite (~/.local/share/charrnn/tunebook.sqlite)."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "charrnn" / "tunebook.sqlite"


def one_blas_thread():
    """One BLAS thread per request: on a loaded 2-core machine OpenBLAS' own threads spin against
    each other (8 lanes: 3 ms a step with one thread, ~40 ms with two); requests run in parallel."""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1, user_api="blas")
    except ImportError:
        pass


def run(args):
    import uvicorn

    from ..generator import load
    from .app import create_app

    one_blas_thread()
    model = load(args.model)
    tunebook = Path(args.tunebook) if args.tunebook else default_tunebook()
    app = create_app(model, tunebook)
    print(f"composer: model {model.folder}, tunebook {tunebook}, media in {app.state.media.folder}")
    print(f"open http://{args.host}:{args.port}/  (Ctrl-C stops)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def register_cli(subparsers):
    p = subparsers.add_parser("serve", help="the composer: a local web page to steer the model bar by bar")
    p.add_argument("--model", default=None, help="run folder (default: the pretrained model)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--tunebook", default=None, metavar="FILE",
                   help=f"SQLite tunebook (default: {default_tunebook()})")
    p.set_defaults(func=run)
