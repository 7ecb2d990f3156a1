// The witness's embedded store: one SQLite file in WAL mode with synchronous=FULL (a commit is on
// disk when it returns), like the log's store (storage/sqlite/sqlite_store.h).
//
// Schema (PRAGMA user_version 1):
//   witness_logs(origin PRIMARY KEY, size, root, checkpoint)   one row per log ever cosigned:
//                                                               the latest cosigned size and
//                                                               root, and the signed note
// compare_and_set reads and writes inside one BEGIN IMMEDIATE transaction, which takes SQLite's
// write lock before the read: two connections (or processes) cannot interleave a check and a
// write. Within one store object, calls are serialised on its single connection.
#pragma once

#include <memory>
#include <string>

#include "util/status.h"
#include "witness/witness_store.h"

namespace medseal::witness {

// Opens or creates the database at `path`. A file with a newer schema is kFailedPrecondition;
// storage faults are kIoError.
Result<std::unique_ptr<WitnessStore>> open_sqlite_witness_store(const std::string& path);

}  // namespace medseal::witness
