"""What the composer's page offers, read from its own HTML, and a timed request: shared by
bench/composer_latency.py and bench/composer_soak.py (so "any key the page offers" stays true).

    options("key")   -> ["D", "G", ...]   (the <select id="key"> options, "any" left out)
"""
import re
from importlib import resources


def options(select_id):
    """The values of the page's <select id=select_id> (an option's value, else its text), blank left out."""
    page = resources.files("charrnn.composer").joinpath("static/index.html").read_text("utf-8")
    block = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', page, re.S).group(1)
    values = [value if value is not None else text for value, text in
              ((m.group(1), m.group(2).strip()) for m in re.finditer(r'<option(?: value="([^"]*)")?[^>]*>([^<]*)</option>', block))]
    return [v for v in values if v]


def lowest_temperature():
    """The page's lowest temperature: the server's minimum (charrnn.composer.bodies.MIN_TEMPERATURE)."""
    from charrnn.composer.bodies import MIN_TEMPERATURE

    return MIN_TEMPERATURE


def start_server(folder, model=None):
    """`python -m charrnn serve` on a free 127.0.0.1 port with a tunebook in `folder`: (process, url),
    once the page answers (the model loaded and warmed up)."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    cmd = [sys.executable, "-m", "charrnn", "serve", "--port", str(port), "--tunebook", str(Path(folder) / "book.sqlite")]
    if model:
        cmd += ["--model", model]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=open(Path(folder) / "server.log", "w"))
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 300
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server stopped: see {folder}/server.log")
        try:
            urllib.request.urlopen(url + "/", timeout=2).read()
            return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("the server did not start within 300 s")


def rss_mb(pid):
    """Resident memory of a process in MB (Linux /proc)."""
    from pathlib import Path

    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
