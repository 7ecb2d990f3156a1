// The shared FHIR test data (../shared/data) as tests use it.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace medseal::testing {

// The .json files of a directory, full paths, sorted.
std::vector<std::string> json_files(const std::string& dir);
// The official HL7 R4 examples and the Synthea transaction bundles.
std::vector<std::string> fhir_examples();
std::vector<std::string> synthea_bundles();

// A resource without what the server owns: id, meta.versionId, meta.lastUpdated (and meta itself
// when nothing else is left in it), to compare what was sent with what came back.
nlohmann::json without_server_fields(nlohmann::json resource);

}  // namespace medseal::testing
