#!/usr/bin/env python3
"""Generates a deterministic N-document JSON Lines corpus from OHSUMED.

Document i takes the title of source record (i mod M) and an abstract of as
many sentences as that record has, each sentence drawn from the whole
source's sentences by a fixed-seed PRNG (SplitMix64, seeded from i alone).
Drawing sentences uniformly keeps the mean abstract length and the word
frequencies of the source; seeding from i alone makes a smaller corpus a
prefix of a larger one. Same N and same source give byte-identical output;
the script prints its sha256.

Limitation: the vocabulary cannot grow past the source's (about 60,000
distinct words), whereas a real corpus of 1,000,000 abstracts would keep
adding new words (rare drug names, typos, numbers).

Output: one object a line, {"_id": "...", "title": "...", "text": "..."},
written to a temporary file and renamed, so a reader never sees half a file,
and OUT.sha256 beside it (the `sha256sum -c` format).
"""

import argparse
import hashlib
import json
import os
import re
import sys
import tempfile

from jsonl import read_records

SEED = 0x6D656473656172  # "medsear": fixed, part of the corpus definition
MASK64 = (1 << 64) - 1
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])")


def splitmix64(state):
    """Returns (next_state, output) of SplitMix64; portable and version-proof."""
    state = (state + 0x9E3779B97F4A7C15) & MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return state, z ^ (z >> 31)


def load_source(path):
    """Reads the OHSUMED JSONL: returns (titles, sentence counts, all sentences)."""
    titles, sentence_counts, sentences = [], [], []
    for record in read_records(path, "make_corpus"):
        text = (record.get("text") or "").strip()
        parts = [s for s in SENTENCE_END.split(text) if s] if text else []
        titles.append((record.get("title") or "").strip())
        sentence_counts.append(len(parts))
        sentences.extend(parts)
    if not titles or not sentences:
        sys.exit(f"make_corpus: {path}: no records with text")
    return titles, sentence_counts, sentences


def generate(path, docs, titles, sentence_counts, sentences):
    """Writes `docs` documents to `path` and returns the sha256 of the bytes written."""
    digest = hashlib.sha256()
    records, pool = len(titles), len(sentences)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".corpus-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            batch = []
            for i in range(docs):
                source = i % records
                state = (SEED ^ (i * 0xD1B54A32D192ED03)) & MASK64
                picked = []
                for _ in range(sentence_counts[source]):
                    state, value = splitmix64(state)
                    picked.append(sentences[value % pool])
                record = {"_id": f"ohs{i:08d}", "title": titles[source], "text": " ".join(picked)}
                batch.append(json.dumps(record, ensure_ascii=False) + "\n")
                if len(batch) == 4096 or i == docs - 1:
                    data = "".join(batch).encode("utf-8")
                    digest.update(data)
                    out.write(data)
                    batch = []
        umask = os.umask(0)  # mkstemp makes the file 0600; give it the usual mode
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return digest.hexdigest()


def print_stats(path):
    """Prints length and vocabulary statistics of a JSONL corpus (for checking likeness)."""
    word = re.compile(r"[A-Za-z0-9]+")
    docs = title_words = text_words = 0
    vocabulary = set()
    with open(path, encoding="utf-8") as corpus:
        for line in corpus:
            record = json.loads(line)
            title = word.findall(record.get("title") or "")
            text = word.findall(record.get("text") or "")
            docs += 1
            title_words += len(title)
            text_words += len(text)
            vocabulary.update(w.lower() for w in title)
            vocabulary.update(w.lower() for w in text)
    print(f"{path}: {docs} documents, {title_words / docs:.1f} title words and "
          f"{text_words / docs:.1f} text words a document, {len(vocabulary)} distinct words")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    parser.add_argument("--docs", type=int, required=True, help="number of documents")
    parser.add_argument("--data", default=os.path.join(repo, "..", "shared", "data"),
                        help="shared data directory (default: <repo>/../shared/data)")
    parser.add_argument("--out", help="output file (default: var/bench/data/ohsumed-N.jsonl)")
    parser.add_argument("--stats", action="store_true",
                        help="also print length and vocabulary statistics of source and output")
    args = parser.parse_args()
    if args.docs < 1:
        parser.error("--docs must be at least 1")
    source = os.path.join(args.data, "ohsumed", "ohsumed.jsonl")
    if not os.path.isfile(source):
        sys.exit(f"make_corpus: {source} not found (give the shared data directory with --data)")
    out = args.out or os.path.join(repo, "var", "bench", "data", f"ohsumed-{args.docs}.jsonl")

    titles, sentence_counts, sentences = load_source(source)
    sha256 = generate(out, args.docs, titles, sentence_counts, sentences)
    # A `sha256sum -c` file beside the corpus lets bench/index reuse it safely.
    with open(out + ".sha256", "w", encoding="utf-8") as stamp:
        stamp.write(f"{sha256}  {os.path.basename(out)}\n")
    print(f"{sha256}  {out}")
    if args.stats:
        print_stats(source)
        print_stats(out)


if __name__ == "__main__":
    main()
