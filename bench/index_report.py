#!/usr/bin/env python3
"""Prints the indexing benchmark's table from the raw rows bench/index wrote.

For each system: the median over its runs of wall time, CPU time (user +
system), peak RSS and index size, and the fastest and slowest wall time (the
noise); docs/s is the document count divided by the median wall time. The last
two columns compare medindex with each peer: its docs/s divided by the peer's
(above 1: medindex is faster) and its peak memory divided by the peer's
(below 1: medindex uses less).
"""

import argparse
import csv
import statistics
import sys

MEDINDEX = "medindex"


def summarise(rows):
    """Returns {system: (docs, runs, seconds, peak_kib, index_bytes, cpu_seconds, min, max)}.

    All are medians over the system's runs, except the fastest and slowest wall time.
    """
    by_system = {}
    for row in rows:
        by_system.setdefault(row["system"], []).append(row)
    summary = {}
    for system, runs in by_system.items():
        summary[system] = (
            int(runs[0]["docs"]),
            len(runs),
            statistics.median(float(r["seconds"]) for r in runs),
            statistics.median(int(r["peak_rss_kib"]) for r in runs),
            statistics.median(int(r["index_bytes"]) for r in runs),
            statistics.median(float(r.get("cpu_seconds") or "nan") for r in runs),
            min(float(r["seconds"]) for r in runs),
            max(float(r["seconds"]) for r in runs),
        )
    return summary


def table(summary, markdown):
    """Returns the table as lines of text (aligned columns, or Markdown)."""
    header = ["system", "docs", "runs", "wall s", "wall min-max", "CPU s", "docs/s", "peak MiB",
              "index MiB",
              "medindex docs/s ratio", "medindex memory ratio"]
    ours = summary.get(MEDINDEX)
    body = []
    for system, (docs, runs, seconds, peak_kib, index_bytes, cpu, low, high) in summary.items():
        rate = docs / seconds if seconds > 0 else float("inf")
        if ours:
            our_rate = ours[0] / ours[2] if ours[2] > 0 else float("inf")
            speed = f"{our_rate / rate:.2f}x"
            memory = f"{ours[3] / peak_kib:.2f}x" if peak_kib else "-"
        else:
            speed = memory = "-"
        body.append([system, f"{docs:,}", str(runs), f"{seconds:.2f}", f"{low:.1f}-{high:.1f}",
                     f"{cpu:.2f}", f"{rate:,.0f}", f"{peak_kib / 1024:,.0f}",
                     f"{index_bytes / 1048576:,.1f}", speed, memory])
    if markdown:
        lines = ["| " + " | ".join(header) + " |",
                 "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return lines
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]

    def aligned(row):
        return "  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                         for i, cell in enumerate(row))

    return [aligned(header), aligned(["-" * w for w in widths])] + [aligned(r) for r in body]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", help="raw rows written by bench/index")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    with open(args.csv, newline="", encoding="utf-8") as source:
        rows = list(csv.DictReader(source))
    if not rows:
        sys.exit(f"index_report: {args.csv} has no rows")
    print("\n".join(table(summarise(rows), args.markdown)))


if __name__ == "__main__":
    main()
