#!/bin/sh
# The demo identities and data `make run` sets up once per data directory: a clinician, a patient
# and an auditor, each a bearer token in DATA/demo/<role>.token (mode 0600), issued with `medseal
# token issue` like any other identity; then, through the API of a short-lived server on a free
# loopback port, the patient's records: the clinician registers Patient/demo-mari and opens an
# ongoing Encounter naming himself (a care relation, src/records/policy.h), and writes a
# condition, a medication, an immunization, an allergy and observations (one of them corrected,
# so it has two versions). Another clinician without a relation is refused once and then breaks
# the glass, so the patient's access trail and the auditor's alerts have something to show.
# Usage: scripts/demo-identities.sh MEDSEAL DATA
set -eu
medseal=${1:?usage: $0 MEDSEAL DATA}
data=${2:?usage: $0 MEDSEAL DATA}
demo="$data/demo"
[ -d "$demo" ] && exit 0
mkdir -p "$demo"
chmod 700 "$data" "$demo"
issue() {  # role name [patient] -> the token on stdout; medseal's note on stderr only on failure
  set -- --role "$1" --name "$2" ${3:+--patient "$3"}
  "$medseal" token issue --data "$data" "$@" 2>"$demo/.issue.err" || { cat "$demo/.issue.err" >&2; exit 1; }
  rm -f "$demo/.issue.err"
}
umask 077
issue clinician dr.kask@demo-hospital > "$demo/clinician.token"
issue patient mari.maasikas Patient/demo-mari > "$demo/patient.token"
issue auditor audit.office > "$demo/auditor.token"
other=$(issue clinician dr.other@elsewhere)

out="$demo/.serve.out"
"$medseal" serve --data "$data" --listen 127.0.0.1:0 > "$out" 2>/dev/null &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
base=""
for _ in $(seq 100); do
  base=$(sed -n 's/^listening on //p' "$out")
  [ -n "$base" ] && break
  sleep 0.1
done
[ -n "$base" ] || { echo "demo: the server did not start" >&2; exit 1; }

C=$(cat "$demo/clinician.token")
put() {  # path json
  curl -sf -o /dev/null -X PUT "$base/fhir/$1" -H "Authorization: Bearer $C" \
       -H 'Content-Type: application/fhir+json' --data-binary "$2" || { echo "demo: PUT $1 failed" >&2; exit 1; }
}
P='"subject":{"reference":"Patient/demo-mari"}'
put Patient/demo-mari '{"resourceType":"Patient","id":"demo-mari","name":[{"family":"Maasikas","given":["Mari"]}],"gender":"female","birthDate":"1984-03-12"}'
put Encounter/demo-visit '{"resourceType":"Encounter","id":"demo-visit","status":"in-progress","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB","display":"ambulatory"},"type":[{"text":"Family doctor visit"}],'"$P"',"participant":[{"individual":{"reference":"Practitioner/dr.kask"}}],"period":{"start":"2026-01-05T09:00:00Z"}}'
put Condition/demo-asthma '{"resourceType":"Condition","id":"demo-asthma","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"code":{"text":"Asthma"},'"$P"',"onsetDateTime":"2019-04-02"}'
put MedicationRequest/demo-inhaler '{"resourceType":"MedicationRequest","id":"demo-inhaler","status":"active","intent":"order","medicationCodeableConcept":{"text":"Salbutamol inhaler 100 µg"},'"$P"',"authoredOn":"2026-01-05"}'
put Immunization/demo-flu '{"resourceType":"Immunization","id":"demo-flu","status":"completed","vaccineCode":{"text":"Influenza vaccine 2026/27"},"patient":{"reference":"Patient/demo-mari"},"occurrenceDateTime":"2026-10-14"}'
put AllergyIntolerance/demo-penicillin '{"resourceType":"AllergyIntolerance","id":"demo-penicillin","code":{"text":"Penicillin"},"patient":{"reference":"Patient/demo-mari"},"recordedDate":"2015-06-01"}'
put Observation/demo-weight '{"resourceType":"Observation","id":"demo-weight","status":"final","code":{"text":"Body weight"},'"$P"',"effectiveDateTime":"2026-01-05T09:20:00Z","valueQuantity":{"value":64.0,"unit":"kg"}}'
# A correction: version 2 of the same observation.
put Observation/demo-weight '{"resourceType":"Observation","id":"demo-weight","status":"amended","code":{"text":"Body weight"},'"$P"',"effectiveDateTime":"2026-01-05T09:20:00Z","valueQuantity":{"value":61.5,"unit":"kg"}}'
put Observation/demo-bp '{"resourceType":"Observation","id":"demo-bp","status":"final","code":{"text":"Blood pressure"},'"$P"',"effectiveDateTime":"2026-01-05T09:25:00Z","component":[{"code":{"text":"systolic"},"valueQuantity":{"value":118,"unit":"mmHg"}},{"code":{"text":"diastolic"},"valueQuantity":{"value":76,"unit":"mmHg"}}]}'
# A clinician with no relation: refused, then breaks the glass.
curl -s -o /dev/null "$base/fhir/Patient/demo-mari" -H "Authorization: Bearer $other"
curl -sf -o /dev/null "$base/fhir/Patient/demo-mari" -H "Authorization: Bearer $other" \
     -H 'X-Medseal-Break-Glass: patient unconscious in the emergency department' || { echo "demo: break-glass read failed" >&2; exit 1; }

kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
echo "demo identities in $demo: clinician.token (dr.kask@demo-hospital), patient.token (Patient/demo-mari), auditor.token; demo records for Patient/demo-mari"
