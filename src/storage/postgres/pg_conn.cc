#include "storage/postgres/pg_conn.h"

#include <cstring>
#include <utility>

namespace medseal::storage::postgres {
namespace {

constexpr Oid kInt8 = 20, kText = 25, kBytea = 17;  // pg_type OIDs

// The first line of a libpq message, without its trailing newline.
std::string first_line(const char* msg) {
  if (msg == nullptr) return "unknown error";
  std::string s(msg);
  s = s.substr(0, s.find('\n'));
  return s.empty() ? "unknown error" : s;
}

// Maps a failed result to a Status by its SQLSTATE class (PostgreSQL appendix A).
Status result_status(PGconn* conn, const PGresult* res, std::string_view what) {
  std::string msg = "postgres: " + std::string(what) + ": ";
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = res != nullptr ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  if (state == nullptr) {  // no server answer: the connection failed
    return Status::io(msg + first_line(PQerrorMessage(conn)));
  }
  msg += first_line(primary) + " (SQLSTATE " + state + ")";
  const std::string_view code(state);
  if (code == "23505") return Status::conflict(std::move(msg));
  if (code == "22021" || code == "22P05") return Status::invalid(std::move(msg));
  const std::string_view cls = code.substr(0, 2);
  if (cls == "08" || cls == "53" || cls == "57" || cls == "58" || cls == "40" ||
      code == "25006" || code == "42501") {
    return Status::io(std::move(msg));
  }
  return Status::internal(std::move(msg));
}

// Owns a PGresult.
using PgResult = std::unique_ptr<PGresult, decltype(&PQclear)>;
PgResult own(PGresult* r) { return PgResult(r, &PQclear); }

bool succeeded(const PGresult* res) {
  const ExecStatusType st = PQresultStatus(res);
  return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

std::string be_bytes(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
  return out;
}

}  // namespace

Params& Params::add(Oid type, std::string value, bool null) {
  values_.push_back(std::move(value));
  types_.push_back(type);
  null_.push_back(null);
  return *this;
}

Params& Params::i64(int64_t v) { return add(kInt8, be_bytes(static_cast<uint64_t>(v)), false); }
Params& Params::text(std::string_view v) { return add(kText, std::string(v), false); }
Params& Params::bytea(std::string_view v) { return add(kBytea, std::string(v), false); }
Params& Params::null_bytea() { return add(kBytea, {}, true); }

std::vector<const char*> Params::pointers() const {
  std::vector<const char*> out;
  for (size_t i = 0; i < values_.size(); ++i) out.push_back(null_[i] ? nullptr : values_[i].data());
  return out;
}

std::vector<int> Params::lengths() const {
  std::vector<int> out;
  for (const std::string& v : values_) out.push_back(static_cast<int>(v.size()));
  return out;
}

int64_t Rows::integer(int row, int col) const {
  if (is_null(row, col)) return 0;
  const auto* p = reinterpret_cast<const unsigned char*>(PQgetvalue(res_.get(), row, col));
  const int n = PQgetlength(res_.get(), row, col);
  uint64_t v = (n > 0 && (p[0] & 0x80)) ? ~uint64_t{0} : 0;  // sign-extend
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return static_cast<int64_t>(v);
}

std::string_view Rows::bytes(int row, int col) const {
  if (is_null(row, col)) return {};
  return {PQgetvalue(res_.get(), row, col),
          static_cast<size_t>(PQgetlength(res_.get(), row, col))};
}

Result<std::unique_ptr<Conn>> Conn::connect(const std::string& url) {
  // Keywords before "dbname" are defaults the URL may override; those after it are imposed.
  const char* keys[] = {"connect_timeout", "keepalives_idle", "keepalives_interval",
                        "keepalives_count", "application_name", "dbname", "client_encoding",
                        nullptr};
  const char* values[] = {"10", "5", "2", "3", "medseal", url.c_str(), "UTF8", nullptr};
  PGconn* raw = PQconnectdbParams(keys, values, 1);
  std::unique_ptr<Conn> conn(new Conn(raw));  // frees the handle even on failure
  if (raw == nullptr || PQstatus(raw) != CONNECTION_OK) {
    return Status::io("postgres: connect to " + describe_url(url) + ": " +
                      first_line(raw != nullptr ? PQerrorMessage(raw) : "out of memory"));
  }
  MEDSEAL_RETURN_IF_ERROR(conn->setup_session());
  return conn;
}

Conn::~Conn() {
  if (conn_ != nullptr) PQfinish(conn_);
}

Status Conn::setup_session() {
  return exec("SET synchronous_commit = on; SET client_min_messages = warning", "set up session");
}

Status Conn::ensure_connected() {
  if (PQstatus(conn_) == CONNECTION_OK) return Status::ok();
  PQreset(conn_);
  prepared_.clear();
  if (PQstatus(conn_) != CONNECTION_OK) {
    return Status::io("postgres: reconnect: " + first_line(PQerrorMessage(conn_)));
  }
  return setup_session();
}

Result<std::string> Conn::prepared_name(const char* sql, const Params& params,
                                        std::string_view what) {
  auto it = prepared_.find(sql);
  if (it != prepared_.end()) return it->second;
  std::string name = "medseal_" + std::to_string(prepared_.size());
  PgResult res = own(PQprepare(conn_, name.c_str(), sql, static_cast<int>(params.size()),
                                params.types().data()));
  if (!succeeded(res.get())) return result_status(conn_, res.get(), what);
  prepared_.emplace(sql, name);
  return name;
}

Result<Rows> Conn::query(const char* sql, const Params& params, std::string_view what) {
  MEDSEAL_RETURN_IF_ERROR(ensure_connected());
  Result<std::string> name = prepared_name(sql, params, what);
  if (!name) return name.status();
  const std::vector<const char*> values = params.pointers();
  const std::vector<int> lengths = params.lengths();
  const std::vector<int> formats(params.size(), 1);  // binary
  PgResult res = own(PQexecPrepared(conn_, name->c_str(), static_cast<int>(params.size()),
                                   values.data(), lengths.data(), formats.data(), 1));
  if (!succeeded(res.get())) return result_status(conn_, res.get(), what);
  return Rows(res.release());
}

Status Conn::run(const char* sql, const Params& params, std::string_view what) {
  return query(sql, params, what).status();
}

Status Conn::exec(const char* sql, std::string_view what) {
  MEDSEAL_RETURN_IF_ERROR(ensure_connected());
  PgResult res = own(PQexec(conn_, sql));
  return succeeded(res.get()) ? Status::ok() : result_status(conn_, res.get(), what);
}

bool Conn::in_transaction() const {
  const PGTransactionStatusType st = PQtransactionStatus(conn_);
  return st == PQTRANS_INTRANS || st == PQTRANS_INERROR;
}

std::string describe_url(const std::string& url) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err);
  if (err != nullptr) PQfreemem(err);
  if (opts == nullptr) return "(unparsable connection string)";
  std::string host = "localhost", port = "5432", db;
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    if (std::strcmp(o->keyword, "host") == 0) host = o->val;
    if (std::strcmp(o->keyword, "port") == 0) port = o->val;
    if (std::strcmp(o->keyword, "dbname") == 0) db = o->val;
  }
  PQconninfoFree(opts);
  return host + ":" + port + "/" + db;
}

}  // namespace medseal::storage::postgres
