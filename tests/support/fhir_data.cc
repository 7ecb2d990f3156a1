#include "support/fhir_data.h"

#include <algorithm>
#include <filesystem>

#include "support/paths.h"

namespace medseal::testing {

std::vector<std::string> json_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".json") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> fhir_examples() { return json_files(shared_dir() + "/data/fhir-r4-examples"); }

std::vector<std::string> synthea_bundles() { return json_files(shared_dir() + "/data/synthea"); }

nlohmann::json without_server_fields(nlohmann::json resource) {
  resource.erase("id");
  if (resource.contains("meta")) {
    resource["meta"].erase("versionId");
    resource["meta"].erase("lastUpdated");
    if (resource["meta"].empty()) resource.erase("meta");
  }
  return resource;
}

}  // namespace medseal::testing
