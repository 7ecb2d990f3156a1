#!/bin/sh
# A test PKI for medseal's TLS, made with the openssl command line only:
#   ca.pem ca.key                  the test CA (clients and server)
#   server.pem server.key          the server, for 127.0.0.1 and localhost
#   valid.pem valid.key            serialNumber=PNOEE-38001085718 (a clinician in the tests)
#   patient.pem patient.key        serialNumber=PNOEE-49002124277
#   expired.pem expired.key        serialNumber=PNOEE-38001085729, valid 2020-01-01..2020-12-31
#   revoked.pem revoked.key        serialNumber=PNOEE-38001085730, listed in crl.pem
#   foreign.pem foreign.key        serialNumber=PNOEE-38001085718 again, from foreign-ca.pem (not trusted)
#   crl.pem                        the CA's revocation list (revoked.pem)
# Usage: scripts/test-pki.sh OUT_DIR   (created if absent; existing files are overwritten)
set -eu
out=${1:?usage: $0 OUT_DIR}
mkdir -p "$out"
cd "$out"
umask 077

cat > openssl.cnf <<'CNF'
[ca]
default_ca = test_ca
[test_ca]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
default_crl_days = 3650
policy = any
unique_subject = no
copy_extensions = copy
[any]
commonName = optional
serialNumber = optional
countryName = optional
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[client]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
[server]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
CNF
rm -f index.txt index.txt.* serial serial.*
: > index.txt
echo 1000 > serial

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
ca() {  # NAME SUBJECT
  key "$1"
  openssl req -x509 -new -key "$1.key" -subj "$2" -days 3650 -sha256 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out "$1.pem"
}
# NAME SUBJECT EXTENSIONS [openssl ca date options...]: signed by the test CA through `openssl ca`,
# so the CA's database knows it and can revoke it.
issue() {
  name=$1 subject=$2 ext=$3
  shift 3
  key "$name"
  openssl req -new -key "$name.key" -subj "$subject" -out "$name.csr"
  openssl ca -batch -config openssl.cnf -cert ca.pem -keyfile ca.key -extensions "$ext" \
    -in "$name.csr" -out "$name.pem" -notext "$@" 2>/dev/null
  rm -f "$name.csr"
}

ca ca "/CN=medseal test CA"
ca foreign-ca "/CN=some other CA"
issue server "/CN=localhost" server -days 3650
issue valid "/CN=TAMM,MARI,38001085718/serialNumber=PNOEE-38001085718" client -days 3650
issue patient "/CN=KASK,JAAN,49002124277/serialNumber=PNOEE-49002124277" client -days 3650
issue expired "/CN=VANA,VELLO,38001085729/serialNumber=PNOEE-38001085729" client \
  -startdate 20200101000000Z -enddate 20201231000000Z
issue revoked "/CN=TAGASI,TIINA,38001085730/serialNumber=PNOEE-38001085730" client -days 3650
openssl ca -batch -config openssl.cnf -cert ca.pem -keyfile ca.key -revoke revoked.pem 2>/dev/null
openssl ca -batch -config openssl.cnf -cert ca.pem -keyfile ca.key -gencrl -out crl.pem 2>/dev/null

# The same person's certificate from a CA the server does not trust.
key foreign
openssl req -new -key foreign.key -subj "/CN=TAMM,MARI,38001085718/serialNumber=PNOEE-38001085718" -out foreign.csr
openssl x509 -req -in foreign.csr -CA foreign-ca.pem -CAkey foreign-ca.key -CAcreateserial -days 3650 \
  -sha256 -out foreign.pem 2>/dev/null
rm -f foreign.csr foreign-ca.srl
rm -f [0-9][0-9][0-9][0-9].pem index.txt.old index.txt.attr.old serial.old
echo "test PKI in $out: ca.pem server.pem valid.pem patient.pem expired.pem revoked.pem foreign.pem crl.pem"
