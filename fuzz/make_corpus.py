#!/usr/bin/env python3
"""Builds the seed corpus of every fuzz target from ../shared (testdata and data), at run time:
nothing here is copied into the repository.

    fuzz/make_corpus.py SHARED_DIR OUT_DIR      -> OUT_DIR/<target>/<seed files>

Seeds are real inputs (the tessera log's checkpoints, tiles and bundles; the signed-note vectors;
FHIR R4 examples and Synthea resources) and inputs built from them the way medseal builds its own
(consistency proofs, receipts, publication codes, statements, HTTP requests), so every target
starts past its parser's first checks.
"""
import base64
import glob
import hashlib
import json
import os
import struct
import sys

SHARED, OUT = sys.argv[1], sys.argv[2]
TESSERA = os.path.join(SHARED, "testdata/tessera-log")
MAX_SEED = 64 * 1024  # larger files slow every mutation down; the parsers' limits are tested in tests/


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    if len(data) > MAX_SEED:
        return
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


# RFC 6962 / 9162 over leaf hashes.
def node(a, b):
    return hashlib.sha256(b"\x01" + a + b).digest()


def root(hashes):
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return node(root(hashes[:k]), root(hashes[k:]))


def inclusion(hashes, i):
    if len(hashes) <= 1:
        return []
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    if i < k:
        return inclusion(hashes[:k], i) + [root(hashes[k:])]
    return inclusion(hashes[k:], i - k) + [root(hashes[:k])]


def consistency(hashes, m, complete=True):
    n = len(hashes)
    if m == n:
        return [] if complete else [root(hashes)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return consistency(hashes[:k], m, complete) + [root(hashes[k:])]
    return consistency(hashes[k:], m - k, False) + [root(hashes[:k])]


def b64(b):
    return base64.b64encode(b).decode()


tessera_notes = {int(p.rsplit(".", 1)[1]): read(p).decode() for p in glob.glob(TESSERA + "/checkpoint.*")}
tessera_leaves = read(TESSERA + "/tile/0/000.p/15")
leaf_hashes = [tessera_leaves[i:i + 32] for i in range(0, len(tessera_leaves), 32)]
vectors = json.load(open(os.path.join(SHARED, "testdata/note/vectors.json")))

# Signed notes, checkpoints, keys and cosignatures.
for n, text in tessera_notes.items():
    write("note_fuzz", f"tessera-{n}", text)
    write("checkpoint_fuzz", f"tessera-{n}", text.split("\n\n")[0] + "\n")
for i, v in enumerate(vectors["notes"]):
    write("note_fuzz", f"vector-{i}", v["signed_note"])
    write("note_fuzz", f"vkey-{i}", v["vkey"])
for i, v in enumerate(vectors["cosignatures"]):
    write("note_fuzz", f"cosigline-{i}", v["signature_line"])
    write("checkpoint_fuzz", f"cosigned-{i}", v["checkpoint_text"])
    write("cosignature_fuzz", f"vector-{i}", v["checkpoint_text"] + "\n--\n" + v["signature_line"] + "\n")
write("cosignature_fuzz", "size", "x\n--\n15\n")

# Witness requests: the witness starts at the tessera log's size 8 (witness_request_fuzz.cc).
for n, text in tessera_notes.items():
    write("witness_request_fuzz", f"old0-{n}", f"old 0\n\n{text}")
    if n >= 8:
        proof = "".join(b64(h) + "\n" for h in consistency(leaf_hashes[:n], 8)) if n > 8 else ""
        write("witness_request_fuzz", f"old8-{n}", f"old 8\n{proof}\n{text}")

# Tile paths, bundles and entries: the tessera log's, and a bundle of medseal-shaped entries.
for kind in ("0", "entries"):
    for path in glob.glob(f"{TESSERA}/tile/{kind}/000.p/*"):
        width = path.rsplit("/", 1)[1]
        write("tile_path_fuzz", f"path-{kind}-{width}", f"tile/{kind}/000.p/{width}")
        write("tile_path_fuzz", f"bytes-{kind}-{width}", read(path))
write("tile_path_fuzz", "path-deep", "tile/2/x001/x234/067.p/8")


def entry(kind, time_ms, salt, statement):
    return bytes([1, kind]) + struct.pack(">Q", time_ms) + hashlib.sha256(salt + statement).digest()


statements = [
    '{"v":1,"op":"create","outcome":"ok","time":1704067200000,"who":"dr.who","role":"clinician",'
    '"purpose":"TREAT","resources":["Patient/p1/_history/1"],'
    '"sha256":"' + "ab" * 32 + '","patients":["Patient/p1"],"rule":"new-patient"}',
    '{"v":1,"op":"read","outcome":"denied","time":1704067200001,"who":"x","role":"patient",'
    '"purpose":"TREAT","resources":["Observation/o1"],"patients":["Patient/p2"],"rule":"no-relation",'
    '"reason":"not in the caller\'s compartment"}',
    '{"v":1,"op":"erase","outcome":"ok","time":1704067200002,"who":"admin","role":"admin","erased":[1,2,3]}',
]
for i, s in enumerate(statements):
    write("statement_fuzz", f"statement-{i}", s)
entries = [entry(1 + i % 4, 1704067200000 + i, bytes([i]) * 32, statements[i % 3].encode()) for i in range(5)]
write("tile_path_fuzz", "bundle-medseal", b"".join(struct.pack(">H", len(e)) + e for e in entries))

# Receipts: a tree of those entries, a checkpoint over it (its signature line is well-formed but
# by no key: receipt_fuzz verifies pinned to the checkpoint) and one receipt per entry.
tree = [hashlib.sha256(b"\x00" + e).digest() for e in entries]
checkpoint = f"fuzz.example/log\n{len(tree)}\n{b64(root(tree))}\n"
note_text = checkpoint + "\n— fuzz.example/log " + b64(b"\x01\x02\x03\x04" + b"\x00" * 64) + "\n"
for i, e in enumerate(entries):
    extra = e + bytes([i]) * 32 + statements[i % 3].encode()
    proof = "".join(b64(h) + "\n" for h in inclusion(tree, i))
    write("receipt_fuzz", f"receipt-{i}", f"c2sp.org/tlog-proof@v1\nextra {b64(extra)}\nindex {i}\n{proof}\n{note_text}")
for n in (3, 15):
    proof = "".join(b64(h) + "\n" for h in inclusion(leaf_hashes[:n], 1))
    write("receipt_fuzz", f"tessera-{n}", f"c2sp.org/tlog-proof@v1\nindex 1\n{proof}\n{tessera_notes[n]}")

# Publication codes (ledger/publication.h) of the tessera checkpoints, and a publications file.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def publication_code(origin, size, root_hash):
    bits = "".join(f"{b:08b}" for b in root_hash) + "0000"
    chars = "".join(CROCKFORD[int(bits[i:i + 5], 2)] for i in range(0, len(bits), 5))
    canonical = f"{origin} {size} {chars}"
    check = sum((i + 1) * ord(c) for i, c in enumerate(canonical)) % 32749
    groups = "-".join(chars[i:i + 4] for i in range(0, len(chars), 4))
    return f"{origin} {size} {groups} " + "".join(CROCKFORD[(check >> s) & 31] for s in (10, 5, 0))


lines = []
for n in sorted(tessera_notes):
    origin, size, root_b64 = tessera_notes[n].split("\n")[:3]
    code = publication_code(origin, int(size), base64.b64decode(root_b64))
    write("publication_fuzz", f"code-{n}", code)
    lines.append(json.dumps({"origin": origin, "size": int(size), "root": root_b64, "code": code,
                             "checkpoint": tessera_notes[n],
                             "published": f"2026-11-27T12:00:{n:02d}.000Z"}, separators=(",", ":")))
write("publication_fuzz", "file", "\n".join(lines[:4]) + "\n")

# FHIR resources: the R4 examples and Synthea's resources; transaction Bundles of a few entries.
for path in sorted(glob.glob(os.path.join(SHARED, "data/fhir-r4-examples/*.json"))):
    write("fhir_resource_fuzz", os.path.basename(path), read(path))
synthea = sorted(glob.glob(os.path.join(SHARED, "data/synthea/*.json")), key=os.path.getsize)[:3]
seen_types = {}
for b, path in enumerate(synthea):
    bundle = json.load(open(path, encoding="utf-8"))
    for i, e in enumerate(bundle["entry"]):
        t = e["resource"]["resourceType"]
        if seen_types.get(t, 0) < 3:
            seen_types[t] = seen_types.get(t, 0) + 1
            write("fhir_resource_fuzz", f"synthea-{b}-{i}", json.dumps(e["resource"], ensure_ascii=False))
    for start in range(0, min(len(bundle["entry"]), 40), 4):
        small = dict(bundle, entry=bundle["entry"][start:start + 4])
        write("fhir_bundle_fuzz", f"synthea-{b}-{start}", json.dumps(small, ensure_ascii=False))

# Search parameters (server/fhir_query.h).
queries = ["patient=Patient/p1", "patient=p1&_count=10&_offset=20", "_id=a,b,c",
           "_lastUpdated=ge2024-01-01T00:00:00+01:00&_lastUpdated=lt2025", "_lastUpdated=eq2024-03",
           "_format=application/fhir%2Bjson", "_count=0", "_lastUpdated=gt2024-03-05T10:00:00.123456789Z"]
for i, q in enumerate(queries):
    write("fhir_query_fuzz", f"query-{i}", q)

# HTTP requests at the server's entry point (http_api_fuzz.cc).
FHIR_JSON = "application/fhir+json"


def request(method, target, body="", token="@clinician", extra=""):
    return (f"{method} {target}\nHost: localhost\nAuthorization: Bearer {token}\nAccept: {FHIR_JSON}\n"
            f"Content-Type: {FHIR_JSON}\n{extra}\n{body}")


patient = '{"resourceType":"Patient","id":"p1","name":[{"family":"Tamm"}],"birthDate":"1980-01-01"}'
observation = ('{"resourceType":"Observation","status":"final","code":{"text":"weight"},'
               '"subject":{"reference":"Patient/p1"},"valueQuantity":{"value":1.00,"unit":"kg"}}')
http = {
    "put-patient": request("PUT", "/fhir/Patient/p1", patient),
    "post-observation": request("POST", "/fhir/Observation", observation),
    "read": request("GET", "/fhir/Patient/p1", token="@patient"),
    "vread": request("GET", "/fhir/Patient/p1/_history/1"),
    "history": request("GET", "/fhir/Patient/p1/_history?_count=5"),
    "search": request("GET", "/fhir/Observation?patient=Patient/p1&_lastUpdated=ge2024"),
    "trail": request("GET", "/fhir/AuditEvent?patient=Patient/p1", token="@auditor"),
    "receipt": request("GET", "/fhir/Patient/p1/_history/1/$receipt"),
    "delete": request("DELETE", "/fhir/Patient/p1", extra="If-Match: W/\"1\"\n"),
    "break-glass": request("GET", "/fhir/Patient/p9", extra="X-Medseal-Break-Glass: emergency\n"),
    "metadata": "GET /fhir/metadata\n\n",
    "ledger-receipt": request("GET", "/ledger/receipts/0", token="@admin"),
    "checkpoint": "GET /log/checkpoint\n\n",
    "tile": "GET /log/tile/0/000.p/1\n\n",
    "bundle": "GET /log/tile/entries/000.p/1\n\n",
}
if synthea:
    bundle = json.load(open(synthea[0], encoding="utf-8"))
    http["transaction"] = request("POST", "/fhir", json.dumps(dict(bundle, entry=bundle["entry"][:3])))
for name, text in http.items():
    write("http_api_fuzz", name, text)
