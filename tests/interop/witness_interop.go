// witness_interop is a log that asks a tlog-witness for cosignatures, written with Go's
// golang.org/x/mod/sumdb/note (signing checkpoints) and sumdb/tlog (tree hashes and consistency
// proofs) and the standard library's Ed25519 (checking cosignatures), so that
// tests/witness_process_test.cc can check `medseal witness` against code nobody here wrote.
//
// Built offline in GOPATH mode against the Debian package golang-golang-x-mod-dev (see
// tests/support/process.h, go_interop_tool).
//
// Usage (exit status 0 on success, 1 with a one-line reason on stderr otherwise):
//
//	witness_interop -url http://127.0.0.1:7380 -key PRIVATE+KEY+... -witness VKEY
//
// It grows a log of made-up entries through the sizes 1, 2, 3, 7, 8, 100, 100 (again), 1000, and
// at each submits "old <last cosigned size>", the tlog.ProveTree proof and the note.Sign-ed
// checkpoint, expecting 200 and a cosignature/v1 line that verifies under the witness key with a
// timestamp within a minute of now. Then it expects the protocol's refusals: 409 with a
// text/x.tlog.size body for a stale old size (and recovers by resending with that size), 422 for a
// proof from a forked tree, 403 for a checkpoint signed by another key of the same name.
// On success it prints one line: "ok cosigned=<n>".
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "witness_interop: "+format+"\n", args...)
	os.Exit(1)
}

// memoryLog keeps every stored hash of a tree of entries "<prefix> <i>".
type memoryLog struct {
	prefix string
	hashes []tlog.Hash
	size   int64
}

func (l *memoryLog) growTo(n int64) {
	for ; l.size < n; l.size++ {
		data := []byte(fmt.Sprintf("%s %d", l.prefix, l.size))
		stored, err := tlog.StoredHashes(l.size, data, l)
		if err != nil {
			fail("StoredHashes: %v", err)
		}
		l.hashes = append(l.hashes, stored...)
	}
}

func (l *memoryLog) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = l.hashes[x]
	}
	return out, nil
}

func (l *memoryLog) checkpoint(n int64, signer note.Signer) (text string, signed []byte) {
	root, err := tlog.TreeHash(n, l)
	if err != nil {
		fail("TreeHash: %v", err)
	}
	text = fmt.Sprintf("%s\n%d\n%s\n", signer.Name(), n, base64.StdEncoding.EncodeToString(root[:]))
	signed, err = note.Sign(&note.Note{Text: text}, signer)
	if err != nil {
		fail("note.Sign: %v", err)
	}
	return text, signed
}

func (l *memoryLog) body(old, n int64, signer note.Signer) (text string, body []byte) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "old %d\n", old)
	if old > 0 && old < n {
		proof, err := tlog.ProveTree(n, old, l)
		if err != nil {
			fail("ProveTree(%d, %d): %v", n, old, err)
		}
		for _, h := range proof {
			b.WriteString(base64.StdEncoding.EncodeToString(h[:]) + "\n")
		}
	}
	text, signed := l.checkpoint(n, signer)
	b.WriteString("\n")
	b.Write(signed)
	return text, b.Bytes()
}

// witnessKey is a cosignature/v1 verifier key "name+hex8+base64(0x04 || public key)".
type witnessKey struct {
	name string
	id   [4]byte
	pub  ed25519.PublicKey
}

func parseWitnessKey(vkey string) witnessKey {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		fail("witness key %q is not name+id+key", vkey)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 33 || raw[0] != 0x04 {
		fail("witness key %q is not a type 0x04 Ed25519 key", vkey)
	}
	k := witnessKey{name: parts[0], pub: ed25519.PublicKey(raw[1:])}
	digest := sha256.Sum256(append([]byte(k.name+"\n"), raw...))
	copy(k.id[:], digest[:4])
	if hex.EncodeToString(k.id[:]) != parts[1] {
		fail("witness key %q: the key id does not match", vkey)
	}
	return k
}

// checkCosignature checks that the reply is exactly one cosignature/v1 line by the witness on text.
func checkCosignature(reply []byte, text string, k witnessKey) {
	line := string(reply)
	prefix := "\u2014 " + k.name + " "
	if !strings.HasPrefix(line, prefix) || !strings.HasSuffix(line, "\n") || strings.Count(line, "\n") != 1 {
		fail("reply is not one signature line by %s: %q", k.name, line)
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(line[len(prefix):], "\n"))
	if err != nil || len(sig) != 4+8+64 {
		fail("cosignature is not base64 of key id, timestamp and signature: %q", line)
	}
	if !bytes.Equal(sig[:4], k.id[:]) {
		fail("cosignature key id %x, want %x", sig[:4], k.id)
	}
	ts := binary.BigEndian.Uint64(sig[4:12])
	msg := "cosignature/v1\ntime " + strconv.FormatUint(ts, 10) + "\n" + text
	if !ed25519.Verify(k.pub, []byte(msg), sig[12:]) {
		fail("cosignature does not verify")
	}
	now := uint64(time.Now().Unix())
	if ts > now+1 || ts+60 < now {
		fail("cosignature timestamp %d is not near now (%d)", ts, now)
	}
}

func post(url string, body []byte) (int, string, []byte) {
	resp, err := http.Post(url+"/add-checkpoint", "text/plain", bytes.NewReader(body))
	if err != nil {
		fail("POST: %v", err)
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		fail("POST: %v", err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), reply
}

func expectStatus(url string, body []byte, want int, what string) (string, []byte) {
	status, ctype, reply := post(url, body)
	if status != want {
		fail("%s: HTTP %d (%q), want %d", what, status, reply, want)
	}
	return ctype, reply
}

func main() {
	url := flag.String("url", "", "the witness's submission prefix")
	key := flag.String("key", "", "the log's private key, PRIVATE+KEY+...")
	witnessVkey := flag.String("witness", "", "the witness's verifier key")
	flag.Parse()
	signer, err := note.NewSigner(*key)
	if err != nil {
		fail("log key: %v", err)
	}
	wk := parseWitnessKey(*witnessVkey)

	log := &memoryLog{prefix: "entry"}
	var cosigned, old int64
	for _, n := range []int64{1, 2, 3, 7, 8, 100, 100, 1000} {
		log.growTo(n)
		text, body := log.body(old, n, signer)
		_, reply := expectStatus(*url, body, http.StatusOK, fmt.Sprintf("old %d, size %d", old, n))
		checkCosignature(reply, text, wk)
		old = n
		cosigned++
	}

	// A log that lost its state asks with old 0 and learns the size from the 409.
	log.growTo(1500)
	text, stale := log.body(0, 1500, signer)
	ctype, reply := expectStatus(*url, stale, http.StatusConflict, "stale old size")
	if ctype != "text/x.tlog.size" || string(reply) != strconv.FormatInt(old, 10)+"\n" {
		fail("409: content type %q, body %q; want text/x.tlog.size, %q", ctype, reply, strconv.FormatInt(old, 10)+"\n")
	}
	learned, _ := strconv.ParseInt(strings.TrimSuffix(string(reply), "\n"), 10, 64)
	text, body := log.body(learned, 1500, signer)
	_, reply = expectStatus(*url, body, http.StatusOK, "resent with the learned size")
	checkCosignature(reply, text, wk)
	cosigned++

	fork := &memoryLog{prefix: "forked"}
	fork.growTo(2000)
	_, forked := fork.body(1500, 2000, signer)
	expectStatus(*url, forked, http.StatusUnprocessableEntity, "forked tree")

	skey, _, err := note.GenerateKey(nil, signer.Name())
	if err != nil {
		fail("GenerateKey: %v", err)
	}
	impostor, err := note.NewSigner(skey)
	if err != nil {
		fail("NewSigner: %v", err)
	}
	log.growTo(1600)
	_, body = log.body(1500, 1600, impostor)
	expectStatus(*url, body, http.StatusForbidden, "another key of the same name")
	fmt.Printf("ok cosigned=%d\n", cosigned)
}
