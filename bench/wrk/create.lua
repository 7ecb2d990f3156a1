-- wrk -s bench/wrk/create.lua: POST /fhir/Patient (the Patient of bench/http_bench.cc) with the
-- clinician token in the environment variable MEDSEAL_TOKEN. wrk counts answers other than 2xx
-- ("Non-2xx or 3xx responses").
--   TOKEN=$(medseal token issue --data DIR --role clinician --name bench.clinician)
--   MEDSEAL_TOKEN=$TOKEN wrk -t2 -c64 -d10s --latency -s bench/wrk/create.lua http://127.0.0.1:PORT
wrk.method = "POST"
wrk.path = "/fhir/Patient"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("MEDSEAL_TOKEN")
wrk.headers["Content-Type"] = "application/fhir+json"
wrk.body = '{"resourceType":"Patient","identifier":[{"use":"usual","type":{"coding":[{"system":' ..
  '"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},"system":' ..
  '"urn:oid:1.2.36.146.595.217.0.1","value":"12345","assigner":{"display":"Acme Healthcare"}}],' ..
  '"active":true,"name":[{"use":"official","family":"Chalmers","given":["Peter","James"]}],' ..
  '"telecom":[{"system":"phone","value":"(03) 5555 6473","use":"work","rank":1}],' ..
  '"gender":"male","birthDate":"1974-12-25","address":[{"use":"home","line":["534 Erewhon St"],' ..
  '"city":"PleasantVille","district":"Rainbow","state":"Vic","postalCode":"3999"}]}'

