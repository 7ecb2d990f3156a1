// tlog_interop reads a medseal log over HTTP with Go's golang.org/x/mod/sumdb/tlog and
// sumdb/note, implementations nobody here wrote, so tests/server_interop_test.cc can check that
// what medseal serves is a correct tlog-tiles log by someone else's reading.
//
// Built offline in GOPATH mode against the Debian package golang-golang-x-mod-dev:
//
//	GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOPROXY=off GOCACHE=$(mktemp -d) \
//	  go build -o tlog_interop tests/interop/tlog_interop.go
//
// Usage (exit status 0 on success, 1 with a one-line reason on stderr otherwise):
//
//	tlog_interop -url http://127.0.0.1:8080/log -vkey VKEY [-old FILE] [-records N]
//
// It opens <url>/checkpoint with note.Open, reads hash tiles through tlog.TileHashReader (which
// checks every tile it loads against the checkpoint's root), recomputes the root with
// tlog.TreeHash, proves and checks the inclusion of up to N entries from the entry bundles
// (tlog.ProveRecord / CheckRecord), and with -old proves and checks that the old checkpoint's tree
// is a prefix of the current one (tlog.ProveTree / CheckTree). On success it prints one line:
// "ok size=<n> records=<k> [old=<m>]".
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// C2SP tlog-tiles fixes the tile height at 8.
const tileHeight = 8

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "tlog_interop: "+format+"\n", args...)
	os.Exit(1)
}

func get(url string) []byte {
	resp, err := http.Get(url)
	if err != nil {
		fail("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<25))
	if err != nil {
		fail("GET %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		fail("GET %s: HTTP %d", url, resp.StatusCode)
	}
	return body
}

// c2spPath maps Go's tile path "tile/8/<L>/<N>[.p/<W>]" (and "tile/8/data/..." for entries) to
// C2SP's, which has no height element and calls data tiles "entries".
func c2spPath(t tlog.Tile) string {
	p := strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", tileHeight))
	if strings.HasPrefix(p, "data/") {
		p = "entries/" + strings.TrimPrefix(p, "data/")
	}
	return "tile/" + p
}

// tileReader serves tlog.TileHashReader from the HTTP log.
type tileReader struct{ url string }

func (r *tileReader) Height() int { return tileHeight }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		out[i] = get(r.url + "/" + c2spPath(t))
	}
	return out, nil
}

func (r *tileReader) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

// openCheckpoint verifies a checkpoint note with the log's key and parses its body
// (origin, size, base64 root; C2SP tlog-checkpoint, not Go's "go.sum database tree" header).
func openCheckpoint(msg []byte, verifier note.Verifier) tlog.Tree {
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("note.Open: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != verifier.Name() {
		fail("checkpoint body is not origin, size, root: %q", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		fail("checkpoint size %q", lines[1])
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		fail("checkpoint root %q", lines[2])
	}
	var tree tlog.Tree
	tree.N = size
	copy(tree.Hash[:], root)
	return tree
}

// entry reads entry i from its entry bundle (uint16 big-endian length-prefixed entries).
func entry(url string, tree tlog.Tree, i int64) []byte {
	n := i / (1 << tileHeight)
	w := int64(1 << tileHeight)
	if rest := tree.N - n*w; rest < w {
		w = rest
	}
	bundle := get(url + "/" + c2spPath(tlog.Tile{H: tileHeight, L: -1, N: n, W: int(w)}))
	for k := int64(0); ; k++ {
		if len(bundle) < 2 {
			fail("entry bundle %d ends before entry %d", n, i)
		}
		size := int(binary.BigEndian.Uint16(bundle))
		if len(bundle) < 2+size {
			fail("entry bundle %d is truncated", n)
		}
		if n*(1<<tileHeight)+k == i {
			return bundle[2 : 2+size]
		}
		bundle = bundle[2+size:]
	}
}

// checkRecords proves and checks entries 0, 1, the last one and `count` others spread evenly.
func checkRecords(url string, tree tlog.Tree, hr tlog.HashReader, count int64) int64 {
	indexes := map[int64]bool{0: true, tree.N - 1: true}
	if tree.N > 1 {
		indexes[1] = true
	}
	for k := int64(0); k < count; k++ {
		indexes[(k*7919+k*tree.N/count)%tree.N] = true
	}
	for i := range indexes {
		leaf := tlog.RecordHash(entry(url, tree, i))
		proof, err := tlog.ProveRecord(tree.N, i, hr)
		if err != nil {
			fail("ProveRecord(%d, %d): %v", tree.N, i, err)
		}
		if err := tlog.CheckRecord(proof, tree.N, tree.Hash, i, leaf); err != nil {
			fail("CheckRecord(%d, %d): %v", tree.N, i, err)
		}
	}
	return int64(len(indexes))
}

func checkOld(path string, verifier note.Verifier, tree tlog.Tree, hr tlog.HashReader) int64 {
	msg, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	old := openCheckpoint(msg, verifier)
	if old.N > tree.N {
		fail("old checkpoint size %d is larger than the log's %d", old.N, tree.N)
	}
	proof, err := tlog.ProveTree(tree.N, old.N, hr)
	if err != nil {
		fail("ProveTree(%d, %d): %v", tree.N, old.N, err)
	}
	if err := tlog.CheckTree(proof, tree.N, tree.Hash, old.N, old.Hash); err != nil {
		fail("CheckTree(%d, %d): %v", tree.N, old.N, err)
	}
	return old.N
}

func main() {
	url := flag.String("url", "", "the log's tlog-tiles prefix")
	vkey := flag.String("vkey", "", "the log's verifier key")
	oldPath := flag.String("old", "", "an older checkpoint the log must extend")
	records := flag.Int64("records", 64, "entries to prove besides the first and last")
	flag.Parse()
	if *url == "" || *vkey == "" || flag.NArg() != 0 {
		fail("usage: tlog_interop -url URL -vkey VKEY [-old FILE] [-records N]")
	}
	verifier, err := note.NewVerifier(*vkey)
	if err != nil {
		fail("note.NewVerifier: %v", err)
	}
	tree := openCheckpoint(get(*url+"/checkpoint"), verifier)
	if tree.N == 0 {
		fail("the log is empty: nothing to check")
	}
	hr := tlog.TileHashReader(tree, &tileReader{*url})
	root, err := tlog.TreeHash(tree.N, hr)
	if err != nil {
		fail("TreeHash(%d): %v", tree.N, err)
	}
	if !bytes.Equal(root[:], tree.Hash[:]) {
		fail("TreeHash(%d) = %v, the checkpoint says %v", tree.N, root, tree.Hash)
	}
	checked := checkRecords(*url, tree, hr, *records)
	line := fmt.Sprintf("ok size=%d records=%d", tree.N, checked)
	if *oldPath != "" {
		line += fmt.Sprintf(" old=%d", checkOld(*oldPath, verifier, tree, hr))
	}
	fmt.Println(line)
}
