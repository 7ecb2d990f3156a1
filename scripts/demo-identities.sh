#!/bin/sh
# The demo identities `make run` sets up once per data directory: a clinician, a patient and an
# auditor, each a bearer token in DATA/demo/<role>.token (mode 0600), issued with `medseal token
# issue` like any other identity. The patient's compartment is Patient/demo-mari: the clinician
# registers her record with a PUT (update-as-create), which also gives the clinician a care
# relation for 24 hours (src/records/policy.h).
# Usage: scripts/demo-identities.sh MEDSEAL DATA
set -eu
medseal=${1:?usage: $0 MEDSEAL DATA}
data=${2:?usage: $0 MEDSEAL DATA}
demo="$data/demo"
[ -d "$demo" ] && exit 0
mkdir -p "$demo"
chmod 700 "$data" "$demo"
issue() {  # role name [patient]
  umask 077
  if [ $# -eq 3 ]; then
    "$medseal" token issue --data "$data" --role "$1" --name "$2" --patient "$3" 2>/dev/null > "$demo/$1.token"
  else
    "$medseal" token issue --data "$data" --role "$1" --name "$2" 2>/dev/null > "$demo/$1.token"
  fi
}
issue clinician dr.kask@demo-hospital
issue patient mari.maasikas Patient/demo-mari
issue auditor audit.office
echo "demo identities in $demo: clinician.token (dr.kask@demo-hospital), patient.token (Patient/demo-mari), auditor.token"
