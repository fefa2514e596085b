"""The tunebook: saved tunes in one SQLite file (stdlib sqlite3), each write committed at once.

    book = Tunebook("tunebook.sqlite")
    entry = book.add(abc, title="Jig in D", settings={"temperature": 1.0}, model="runs/folk/best.weights.h5")
    book.rename(entry["id"], "The Kitchen Jig"); book.list(); book.export_abc(); book.delete(entry["id"])

Every call opens its own connection and commits before returning, so stopping the server
(Ctrl-C or kill) loses nothing that was saved, and request threads never share a connection.
"""
import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from ..abc.header import header_field, set_field
from ..abc.text import tunebook
from ..errors import CharrnnError

SCHEMA = """CREATE TABLE IF NOT EXISTS tunes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    abc TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    model TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    updated TEXT NOT NULL)"""
COLUMNS = ("id", "title", "abc", "settings", "model", "created", "updated")


def _now():
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _set_title(abc, title):
    """The tune with its T: line saying `title` (one added after X: when it has none)."""
    return set_field(abc if abc.startswith("X:") else "X:1\n" + abc, "T", title)


class Tunebook:
    def __init__(self, path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as con:
                con.execute(SCHEMA)
        except sqlite3.DatabaseError as e:
            raise CharrnnError(f"{self.path}: not a usable tunebook ({e})") from None

    def _connect(self):
        con = sqlite3.connect(self.path, timeout=10)
        con.row_factory = sqlite3.Row
        return con

    def _run(self, sql, args=()):
        con = self._connect()
        try:
            with con:  # commits (or rolls back) before the connection closes
                return [self._row(r) for r in con.execute(sql, args).fetchall()]
        finally:
            con.close()

    @staticmethod
    def _row(r):
        d = dict(r)
        if "settings" in d:
            d["settings"] = json.loads(d["settings"] or "{}")
        return d

    def add(self, abc, title=None, settings=None, model=""):
        if not (title or "").strip():
            title = header_field(abc, "T") or "Untitled"
        title = title.strip()
        abc = _set_title(abc.rstrip("\n") + "\n", title)
        now = _now()
        con = self._connect()
        try:
            with con:
                cur = con.execute("INSERT INTO tunes (title, abc, settings, model, created, updated) "
                                  "VALUES (?, ?, ?, ?, ?, ?)",
                                  (title, abc, json.dumps(settings or {}), model, now, now))
                new_id = cur.lastrowid
        finally:
            con.close()
        return self.get(new_id)

    def get(self, tune_id):
        rows = self._run(f"SELECT {', '.join(COLUMNS)} FROM tunes WHERE id = ?", (tune_id,))
        if not rows:
            raise KeyError(tune_id)
        return rows[0]

    def list(self):
        """Every entry without its ABC text, oldest first."""
        rows = self._run("SELECT id, title, settings, model, created, updated FROM tunes ORDER BY id")
        return rows

    def rename(self, tune_id, title):
        entry = self.get(tune_id)
        self._run("UPDATE tunes SET title = ?, abc = ?, updated = ? WHERE id = ?",
                  (title, _set_title(entry["abc"], title), _now(), tune_id))
        return self.get(tune_id)

    def delete(self, tune_id):
        self.get(tune_id)
        self._run("DELETE FROM tunes WHERE id = ?", (tune_id,))

    def export_abc(self):
        """All tunes as one ABC file, numbered X:1..n in the order they were saved."""
        rows = self._run("SELECT abc FROM tunes ORDER BY id")
        return tunebook([r["abc"] for r in rows]) if rows else ""
