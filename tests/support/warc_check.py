#!/usr/bin/env python3
"""An independent WARC 1.1 reader for the crawler tests.

Written from the WARC 1.1 specification with Python's own gzip, hashlib and
base64, sharing no code with medsearch's WarcReader, so a bug in one is not
hidden by the same bug in the other.

Usage: warc_check.py FILE.warc.gz...

Checks every file strictly: one gzip member per record, the first a warcinfo;
the version line; the mandatory fields and their forms; Content-Length against
the block; the CRLF CRLF after each block; WARC-Block-Digest; for responses
and revisits the WARC-Payload-Digest (of the body with chunked
transfer-encoding removed); record ids unique; request and response records
naming each other in WARC-Concurrent-To; revisits carrying a profile and a
target. Prints one tab-separated line per record:

    TYPE  TARGET-URI  HTTP-STATUS  RECORD-ID  PAYLOAD-DIGEST  REFERS-TO

("-" for what a record lacks) and exits 0, or prints "warc_check: FILE:
OFFSET: problem" on stderr and exits 1.
"""
import base64
import hashlib
import re
import sys
import zlib

DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
RECORD_ID = re.compile(r"^<urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}>$")
TYPES = {"warcinfo", "response", "resource", "request", "metadata", "revisit", "conversion",
         "continuation"}


class Problem(Exception):
    pass


def digest(data):
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def gzip_members(data):
    """Yields (offset, decompressed bytes) for each gzip member of `data`."""
    offset = 0
    while offset < len(data):
        if data[offset:offset + 2] != b"\x1f\x8b":
            raise Problem(f"{offset}: not the start of a gzip member")
        inflater = zlib.decompressobj(wbits=31)
        try:
            out = inflater.decompress(data[offset:])
        except zlib.error as e:
            raise Problem(f"{offset}: corrupt gzip member: {e}")
        if not inflater.eof:
            raise Problem(f"{offset}: truncated gzip member")
        yield offset, out
        offset = len(data) - len(inflater.unused_data)


def parse_record(raw, where):
    head_end = raw.find(b"\r\n\r\n")
    if head_end < 0:
        raise Problem(f"{where}: no end of the WARC header")
    lines = raw[:head_end].decode("utf-8").split("\r\n")
    if lines[0] != "WARC/1.1":
        raise Problem(f"{where}: version line {lines[0]!r}, not WARC/1.1")
    fields = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise Problem(f"{where}: malformed field line {line!r}")
        fields.setdefault(name.lower(), value.strip())
    for name in ("warc-record-id", "content-length", "warc-date", "warc-type"):
        if name not in fields:
            raise Problem(f"{where}: no {name}")
    if not RECORD_ID.match(fields["warc-record-id"]):
        raise Problem(f"{where}: bad WARC-Record-ID {fields['warc-record-id']}")
    if not DATE.match(fields["warc-date"]):
        raise Problem(f"{where}: bad WARC-Date {fields['warc-date']}")
    if fields["warc-type"] not in TYPES:
        raise Problem(f"{where}: unknown WARC-Type {fields['warc-type']}")
    length = int(fields["content-length"])
    block = raw[head_end + 4:head_end + 4 + length]
    if len(block) != length:
        raise Problem(f"{where}: block shorter than Content-Length {length}")
    if raw[head_end + 4 + length:] != b"\r\n\r\n":
        raise Problem(f"{where}: the record does not end with exactly CRLF CRLF after the block")
    if "warc-block-digest" in fields and fields["warc-block-digest"] != digest(block):
        raise Problem(f"{where}: WARC-Block-Digest does not match the block")
    return fields, block


def dechunk(body, where):
    out = b""
    while True:
        line_end = body.find(b"\r\n")
        if line_end < 0:
            raise Problem(f"{where}: broken chunked body")
        size = int(body[:line_end].split(b";")[0], 16)
        if size == 0:
            return out
        out += body[line_end + 2:line_end + 2 + size]
        body = body[line_end + 2 + size + 2:]


def http_status_and_payload(block, where):
    head_end = block.find(b"\r\n\r\n")
    if head_end < 0 or not block.startswith(b"HTTP/1."):
        raise Problem(f"{where}: the block is not an HTTP response")
    head = block[:head_end].decode("latin-1").split("\r\n")
    status = int(head[0].split(" ")[1])
    body = block[head_end + 4:]
    for line in head[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "transfer-encoding" and "chunked" in value.lower():
            body = dechunk(body, where)
    return status, body


def check_file(path, seen_ids, concurrent):
    with open(path, "rb") as f:
        data = f.read()
    lines = []
    for number, (offset, raw) in enumerate(gzip_members(data)):
        where = f"{path}: {offset}"
        fields, block = parse_record(raw, where)
        kind = fields["warc-type"]
        if number == 0 and kind != "warcinfo":
            raise Problem(f"{where}: the first record is {kind}, not warcinfo")
        record_id = fields["warc-record-id"]
        if record_id in seen_ids:
            raise Problem(f"{where}: duplicate WARC-Record-ID {record_id}")
        seen_ids.add(record_id)
        uri = fields.get("warc-target-uri", "-")
        status, payload_digest = "-", fields.get("warc-payload-digest", "-")
        if kind in ("request", "response", "revisit") and uri == "-":
            raise Problem(f"{where}: {kind} without WARC-Target-URI")
        if kind in ("request", "response", "revisit"):
            concurrent[record_id] = fields.get("warc-concurrent-to")
        if kind == "response":
            status, payload = http_status_and_payload(block, where)
            if payload_digest != digest(payload):
                raise Problem(f"{where}: WARC-Payload-Digest does not match the payload")
        if kind == "revisit":
            for name in ("warc-profile", "warc-refers-to-target-uri"):
                if name not in fields:
                    raise Problem(f"{where}: revisit without {name}")
            status, _ = http_status_and_payload(block, where)
        lines.append("\t".join([kind, uri, str(status), record_id, payload_digest,
                                fields.get("warc-refers-to", "-")]))
    return lines


def main(paths):
    seen_ids, concurrent = set(), {}
    try:
        out = []
        for path in paths:
            out += check_file(path, seen_ids, concurrent)
        for record_id, other in concurrent.items():
            if other is None or concurrent.get(other) != record_id:
                raise Problem(f"{record_id}: WARC-Concurrent-To does not pair it with its exchange")
    except (Problem, OSError, ValueError, UnicodeDecodeError) as e:
        print(f"warc_check: {e}", file=sys.stderr)
        return 1
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
