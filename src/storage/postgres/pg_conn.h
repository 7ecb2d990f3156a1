// Minimal RAII wrappers over libpq, internal to storage/postgres. Every statement is parameterised
// (values travel apart from the SQL text, in binary), so no value can change what a statement
// does. Every failure becomes a Status naming the operation and PostgreSQL's primary message only
// (never its DETAIL, which may quote row values): connection and resource faults are kIoError,
// a unique violation kConflict, malformed text (bad UTF-8, NUL) kInvalidArgument.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "util/status.h"

namespace medseal::storage::postgres {

// Statement parameters, bound in order to $1, $2, ...; each value is copied.
class Params {
 public:
  Params& i64(int64_t v);
  Params& text(std::string_view v);
  Params& bytea(std::string_view v);
  Params& null_bytea();

  size_t size() const { return values_.size(); }
  const std::vector<Oid>& types() const { return types_; }
  // Pointers into this object: valid while it lives and is not changed.
  std::vector<const char*> pointers() const;
  std::vector<int> lengths() const;

 private:
  Params& add(Oid type, std::string value, bool null);

  std::vector<std::string> values_;
  std::vector<Oid> types_;
  std::vector<bool> null_;
};

// The rows of a statement's result, in binary format.
class Rows {
 public:
  explicit Rows(PGresult* res) : res_(res, &PQclear) {}
  int count() const { return PQntuples(res_.get()); }
  bool is_null(int row, int col) const { return PQgetisnull(res_.get(), row, col) != 0; }
  // A SMALLINT, INTEGER or BIGINT column (0 for NULL).
  int64_t integer(int row, int col) const;
  // A TEXT or BYTEA column's bytes ("" for NULL); valid while this object lives.
  std::string_view bytes(int row, int col) const;

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> res_;
};

// One session, used by one thread at a time. Statements are prepared on first use and kept.
// A broken session is re-established before the next statement (its transaction is lost, and the
// statement that found it broken failed with kIoError).
class Conn {
 public:
  // Connects to `url` (a libpq connection URI or key=value string) and sets up the session:
  // synchronous_commit on, so a COMMIT returns only once its WAL is flushed.
  static Result<std::unique_ptr<Conn>> connect(const std::string& url);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Runs one parameterised statement.
  Result<Rows> query(const char* sql, const Params& params, std::string_view what);
  Status run(const char* sql, const Params& params, std::string_view what);
  // Runs SQL without parameters, possibly several statements (migrations, BEGIN, COMMIT).
  Status exec(const char* sql, std::string_view what);

  bool in_transaction() const;
  // The server's backend process id of this session (tests use it to kill the session).
  int backend_pid() const { return PQbackendPID(conn_); }
  PGconn* raw() const { return conn_; }

 private:
  explicit Conn(PGconn* conn) : conn_(conn) {}
  Status ensure_connected();
  Status setup_session();
  Result<std::string> prepared_name(const char* sql, const Params& params, std::string_view what);

  PGconn* conn_ = nullptr;
  std::unordered_map<std::string, std::string> prepared_;  // SQL -> statement name
};

// Where a URL points, without user or password: "host:port/dbname" (for messages).
std::string describe_url(const std::string& url);

}  // namespace medseal::storage::postgres
