-- wrk -s bench/wrk/read.lua: GET /fhir/Patient/<id> over the ids in the file named by
-- MEDSEAL_IDS (one id a line), each thread starting at its own place, with the clinician token in
-- MEDSEAL_TOKEN. Every read is a ledger append. wrk counts answers other than 2xx. The ids can be
-- made quickly with a few transaction Bundles of Patients (POST /fhir), from the Locations they answer.
--   MEDSEAL_TOKEN=$TOKEN MEDSEAL_IDS=ids.txt wrk -t2 -c64 -d10s --latency -s bench/wrk/read.lua URL
local paths = {}
for id in io.lines(os.getenv("MEDSEAL_IDS")) do paths[#paths + 1] = "/fhir/Patient/" .. id end
local headers = { ["Authorization"] = "Bearer " .. os.getenv("MEDSEAL_TOKEN") }
local next_path = 1

local thread_no = 0
setup = function(thread)
  thread:set("start", thread_no * 997)
  thread_no = thread_no + 1
end

init = function(args)
  next_path = (start or 0) % #paths + 1
end

request = function()
  local path = paths[next_path]
  next_path = next_path % #paths + 1
  return wrk.format("GET", path, headers)
end
