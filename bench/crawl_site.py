#!/usr/bin/env python3
"""Generates the crawl benchmark's site: PAGES pages spread over HOSTS hosts.

Usage: crawl_site.py OUT_DIR --pages N --hosts H --port P

Host k (1..H) is served from OUT_DIR/host-k on http://127.0.0.k:P/. Each host's
pages form a tree from its root (every page links to up to 8 children), so a
same-host crawler from the root reaches them all; each page also links to 4
random pages of its own host and one page of another host, as real sites
cross-link. Pages carry about 3 KB of medical-sounding text. Deterministic: the
same arguments give the same bytes. Prints the seed URLs, one per line.
"""
import argparse
import os
import random

WORDS = ("ketamine infusion chronic pain neuropathic fibromyalgia receptor nmda dose "
         "patients trial randomised placebo outcome analgesia opioid sensitisation crps "
         "depression clinic treatment review evidence study cohort session response "
         "therapy adverse effects monitoring blood pressure hospital nurse").split()


def page_path(index):
    return "/" if index == 0 else f"/p/{index // 100}/{index}.html"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--pages", type=int, required=True)
    parser.add_argument("--hosts", type=int, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    if args.hosts < 1 or args.hosts > 250 or args.pages < args.hosts:
        parser.error("need 1 <= hosts <= 250 and pages >= hosts")
    rng = random.Random(20240501)
    for host in range(1, args.hosts + 1):
        # Pages are dealt out evenly; the first hosts take the remainder.
        count = args.pages // args.hosts + (1 if host <= args.pages % args.hosts else 0)
        root = os.path.join(args.out, f"host-{host}")
        os.makedirs(root, exist_ok=True)
        with open(os.path.join(root, "robots.txt"), "w") as f:
            f.write("User-agent: *\nDisallow: /nowhere/\n")
        for index in range(count):
            links = [page_path(child) for child in range(8 * index + 1, min(8 * index + 9, count))]
            links += [page_path(rng.randrange(count)) for _ in range(4)]
            if args.hosts > 1:
                other = rng.choice([h for h in range(1, args.hosts + 1) if h != host])
                links.append(f"http://127.0.0.{other}:{args.port}{page_path(rng.randrange(10))}")
            title = f"Host {host} page {index}: " + " ".join(rng.choice(WORDS) for _ in range(4))
            paragraphs = "\n".join(
                "<p>" + " ".join(rng.choice(WORDS) for _ in range(60)) + ".</p>" for _ in range(6))
            anchors = "\n".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
            html = (f"<!doctype html><html><head><meta charset=utf-8><title>{title}</title></head>"
                    f"<body><h1>{title}</h1>\n{paragraphs}\n<ul>\n{anchors}\n</ul></body></html>\n")
            path = page_path(index)
            file_path = os.path.join(root, "index.html" if index == 0 else path.lstrip("/"))
            os.makedirs(os.path.dirname(file_path), exist_ok=True)
            with open(file_path, "w") as f:
                f.write(html)
        print(f"http://127.0.0.{host}:{args.port}/")


if __name__ == "__main__":
    main()
