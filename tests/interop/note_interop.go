// note_interop drives Go's golang.org/x/mod/sumdb/note, an implementation nobody here wrote, so
// tests/note_interop_test.cc can check medseal's note/ against it in both directions.
//
// Built offline in GOPATH mode against the Debian package golang-golang-x-mod-dev:
//
//	GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOPROXY=off GOCACHE=$(mktemp -d) \
//	  go build -o note_interop tests/interop/note_interop.go
//
// Usage (exit status 0 on success, 1 with a one-line reason on stderr otherwise):
//
//	note_interop verify <note-file> <vkey>...   open the note; print the text, then one
//	                                            "verified <name>+<hash>" or "unverified ..." line
//	                                            per signature
//	note_interop generate <name> <seed-hex>     note.GenerateKey with the seed as its random
//	                                            source; print the signer key and the vkey
//	note_interop sign <text-file> <skey>...     sign the text; print the signed note
package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"

	"golang.org/x/mod/sumdb/note"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "note_interop: "+format+"\n", args...)
	os.Exit(1)
}

func verify(path string, vkeys []string) {
	msg, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	var verifiers []note.Verifier
	for _, vkey := range vkeys {
		v, err := note.NewVerifier(vkey)
		if err != nil {
			fail("vkey %q: %v", vkey, err)
		}
		verifiers = append(verifiers, v)
	}
	n, err := note.Open(msg, note.VerifierList(verifiers...))
	if err != nil {
		fail("open: %v", err)
	}
	fmt.Print(n.Text)
	for _, s := range n.Sigs {
		fmt.Printf("verified %s+%08x\n", s.Name, s.Hash)
	}
	for _, s := range n.UnverifiedSigs {
		fmt.Printf("unverified %s+%08x\n", s.Name, s.Hash)
	}
}

func generate(name, seedHex string) {
	seed, err := hex.DecodeString(seedHex)
	if err != nil || len(seed) != 32 {
		fail("seed must be 64 hex digits")
	}
	// ed25519.GenerateKey reads exactly the 32-byte seed from its random source.
	skey, vkey, err := note.GenerateKey(bytes.NewReader(seed), name)
	if err != nil {
		fail("generate: %v", err)
	}
	fmt.Println(skey)
	fmt.Println(vkey)
}

func sign(path string, skeys []string) {
	text, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	var signers []note.Signer
	for _, skey := range skeys {
		s, err := note.NewSigner(skey)
		if err != nil {
			fail("signer key: %v", err)
		}
		signers = append(signers, s)
	}
	msg, err := note.Sign(&note.Note{Text: string(text)}, signers...)
	if err != nil {
		fail("sign: %v", err)
	}
	os.Stdout.Write(msg)
}

func main() {
	args := os.Args[1:]
	switch {
	case len(args) >= 3 && args[0] == "verify":
		verify(args[1], args[2:])
	case len(args) == 3 && args[0] == "generate":
		generate(args[1], args[2])
	case len(args) >= 3 && args[0] == "sign":
		sign(args[1], args[2:])
	default:
		fail("usage: verify <note-file> <vkey>... | generate <name> <seed-hex> | sign <text-file> <skey>...")
	}
}
