#!/usr/bin/env python3
"""Indexes JSON Lines records into an SQLite FTS5 table: the SQLite peer of bench/index.

One table t(id UNINDEXED, title, text) with tokenizer 'porter unicode61'; every
record inserted in one transaction, then the FTS5 'optimize' command merges
the index into one b-tree. Python's sqlite3 module must have FTS5 (Debian 12's
has); the driver checks before timing.
"""

import argparse
import os
import sqlite3
import sys

from jsonl import read_records


def records(path):
    """Yields (id, title, text) for every JSON Lines record of `path`."""
    for record in read_records(path, "sqlite_fts5_index"):
        yield record.get("_id"), record.get("title") or "", record.get("text") or ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="SQLite database file to create")
    parser.add_argument("--check", action="store_true",
                        help="only check that this sqlite3 module has FTS5")
    parser.add_argument("inputs", nargs="*", help="JSON Lines files")
    args = parser.parse_args()
    if args.check:
        try:
            sqlite3.connect(":memory:").execute("CREATE VIRTUAL TABLE t USING fts5(x)")
        except sqlite3.OperationalError as error:
            sys.exit(f"sqlite_fts5_index: this Python's SQLite has no FTS5: {error}")
        return
    if not args.db or not args.inputs:
        parser.error("give --db FILE and JSON Lines files to index")
    if os.path.exists(args.db):
        os.unlink(args.db)
    db = sqlite3.connect(args.db, isolation_level=None)
    db.execute("CREATE VIRTUAL TABLE t USING fts5(id UNINDEXED, title, text, "
               "tokenize = 'porter unicode61')")
    db.execute("BEGIN")
    for path in args.inputs:
        db.executemany("INSERT INTO t(id, title, text) VALUES (?, ?, ?)", records(path))
    db.execute("INSERT INTO t(t) VALUES ('optimize')")
    db.execute("COMMIT")
    count = db.execute("SELECT count(*) FROM t").fetchone()[0]
    db.close()
    print(f"sqlite_fts5_index: table has {count} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
