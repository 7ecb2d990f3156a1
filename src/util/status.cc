#include "util/status.h"

namespace medseal {

std::string Status::to_string() const {
  switch (code_) {
    case Code::kOk: return "ok";
    case Code::kInvalidArgument: return "invalid argument: " + message_;
    case Code::kNotFound: return "not found: " + message_;
    case Code::kVerificationFailed: return "verification failed: " + message_;
    case Code::kIoError: return "I/O error: " + message_;
    case Code::kFailedPrecondition: return "failed precondition: " + message_;
    case Code::kInternal: return "internal error: " + message_;
    case Code::kPermissionDenied: return "permission denied: " + message_;
    case Code::kConflict: return "conflict: " + message_;
  }
  return message_;
}

}  // namespace medseal
