#!/usr/bin/env python3
"""Converts JSON Lines records to Xapian scriptindex's input format.

Each object {"_id", "title", "text", ...} becomes one record of `name=value`
lines (fields id, title, text, in that order; scriptindex field names must
start with a letter or digit, so "_id" is written as "id") followed by a
blank line; a
newline inside a value is written as a newline followed by '=', as
scriptindex requires. Other fields are dropped.
"""

import argparse
import sys

from jsonl import read_records

FIELDS = (("_id", "id"), ("title", "title"), ("text", "text"))


def convert(path, out):
    """Writes the scriptindex form of every record in `path` to `out`; returns the count."""
    count = 0
    for record in read_records(path, "jsonl_to_scriptindex"):
        parts = []
        for field, name in FIELDS:
            value = record.get(field)
            if value is None:
                continue
            value = str(value).replace("\r\n", "\n").replace("\r", "\n")
            parts.append(f"{name}={value.replace(chr(10), chr(10) + '=')}\n")
        parts.append("\n")
        out.write("".join(parts))
        count += 1
    return count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", help="JSON Lines file")
    parser.add_argument("output", help="scriptindex input file to write")
    args = parser.parse_args()
    with open(args.output, "w", encoding="utf-8", newline="\n") as out:
        count = convert(args.input, out)
    print(f"jsonl_to_scriptindex: {count} records written to {args.output}")


if __name__ == "__main__":
    main()
