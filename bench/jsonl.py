"""JSON Lines reading shared by the benchmark scripts."""

import json
import sys


def read_records(path, program):
    """Yields the object on each non-blank line of `path`; exits naming the line if one is not JSON."""
    with open(path, encoding="utf-8") as source:
        for line_number, line in enumerate(source, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as error:
                sys.exit(f"{program}: {path}:{line_number}: not JSON: {error}")
