#include "cli/commands.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <iostream>
#include <thread>

#include "cli/common.h"
#include "cli/data_dir.h"
#include "cli/progress.h"
#include "cluster/cluster_node.h"
#include "cluster/leader_forwarder.h"
#include "alerts/pipeline.h"
#include "crypto/base64.h"
#include "identity/auth_limiter.h"
#include "identity/authenticator.h"
#include "identity/certificate.h"
#include "identity/token_store.h"
#include "identity/user_registry.h"
#include "ledger/keyfile.h"
#include "ledger/ledger.h"
#include "note/keys.h"
#include "records/resource.h"
#include "records/service.h"
#include "server/alerts_http.h"
#include "server/disk_guard.h"
#include "server/forensics_http.h"
#include "server/http_server.h"
#include "server/portal_http.h"
#include "sentinel/integrity_page.h"
#include "sentinel/sentinel.h"
#include "server/json_log.h"
#include "storage/disk_reserve.h"
#include "storage/postgres/leadership.h"
#include "storage/postgres/pg_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "tlog_client/tile_source.h"
#include "tlog_client/verify.h"
#include "witness/cosigned_checkpoint.h"
#include "witness/cosigner.h"
#include "witness/witnessed_ledger.h"
#include "util/file_io.h"

namespace medseal::cli {
namespace {


// Entries per append_all call: one full sequencer batch, so each call commits at once.
constexpr size_t kAppendChunk = 4096;

// The store and the ledger over it, opened in a locked data directory.
struct OpenLog {
  DataDir dir;
  note::SignerKey key;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<ledger::Ledger> ledger;  // with a PostgreSQL store, a cluster::NodeLedger

  ~OpenLog() {
    ledger.reset();  // drains the sequencer before the store goes away
    store.reset();
  }
};

// The data directory holds keys, tokens and health records: nobody but its owner may write to
// it (they could swap a key or the store), and what serve creates in it is the owner's alone.
Status check_private_data_dir(const DataDir& dir) {
  struct stat st{};
  if (::stat(dir.path().c_str(), &st) != 0) return Status::io("cannot stat " + dir.path());
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return Status::invalid(dir.path() + " is writable by group or others; chmod 700 it");
  }
  return Status::ok();
}

// `store`: a postgresql:// URL, or empty for the embedded store in the data directory. `node`:
// with a URL, the ledger of one node of several (cluster/node_ledger.h), following until its
// ClusterNode takes over.
Result<std::unique_ptr<OpenLog>> open_log(const std::string& data_dir, const std::string& origin,
                                          const std::string& store_url, bool node = false) {
  if (!store_url.empty() && !storage::is_postgres_url(store_url)) {
    return Status::invalid("--store must be a postgresql:// URL");
  }
  auto dir = DataDir::open(data_dir);
  if (!dir) return dir.status();
  MEDSEAL_RETURN_IF_ERROR(check_private_data_dir(*dir));
  auto key = ledger::load_or_create_log_key(dir->path(), origin);
  if (!key) return key.status();
  auto store = storage::open_store_at(store_url.empty() ? dir->file(kStoreFile) : store_url);
  if (!store) return store.status();
  auto log = std::make_unique<OpenLog>(std::move(*dir), *key, std::move(*store), nullptr);
  if (node && !store_url.empty()) {
    auto intake = cluster::AlertIntake::open(store_url);
    if (!intake) return intake.status();
    log->ledger = std::make_unique<cluster::NodeLedger>(*log->store, log->key, std::move(*intake));
    return log;
  }
  ledger::LedgerOptions options;
  if (!store_url.empty()) options.batch_window = ledger::kDurableCommitBatchWindow;
  auto ledger = ledger::Ledger::open(*log->store, log->key, options);
  if (!ledger) return ledger.status();
  log->ledger = std::move(*ledger);
  return log;
}

// The portal's address and the demo tokens to sign in with: they are test identities on a
// developer's machine, printed so that `make run` is one step from a working page.
void print_demo_sign_ins(const std::string& base, const std::string& demo) {
  std::printf("  portal:        %s/ (sign in with one of these demo tokens)\n", base.c_str());
  for (const char* role : {"patient", "clinician", "auditor"}) {
    std::ifstream in(demo + "/" + role + ".token");
    std::string token;
    if (std::getline(in, token)) std::printf("    %-12s %s\n", (std::string(role) + ":").c_str(), token.c_str());
  }
}

// What `make run` shows: where the server is and how to look at and check the log.
// The admin token is printed because this is what a developer running `make run` needs first; it is
// also in DATA/admin.token, readable only by the owner.
void print_usage_hints(const ServeArgs& args, const OpenLog& log, const std::string& base,
                       const std::string& admin_token) {
  std::string vkey = note::format_verifier_key(note::verifier_of(log.key));
  std::printf("listening on %s\n", base.c_str());
  std::printf("  log origin:    %s\n", log.key.name.c_str());
  std::printf("  verifier key:  %s\n", vkey.c_str());
  std::printf("  key files:     %s (private, mode 0600) and %s\n",
              log.dir.file(ledger::kLogKeyFile).c_str(), log.dir.file(ledger::kLogVkeyFile).c_str());
  std::printf("  checkpoint:    curl %s/log/checkpoint\n", base.c_str());
  std::printf("  verify:        %s log verify --url %s/log --vkey %s\n", args.program.c_str(),
              base.c_str(), log.dir.file(ledger::kLogVkeyFile).c_str());
  std::string admin = log.dir.file(kAdminTokenFile);
  std::printf("  FHIR API:      %s/fhir (CapabilityStatement: curl %s/fhir/metadata)\n", base.c_str(), base.c_str());
  // Only to a person at a terminal: stdout that goes to a file or a journal would keep a secret.
  if (::isatty(STDOUT_FILENO)) {
    std::printf("  admin token:   %s (also in %s, mode 0600)\n", admin_token.c_str(), admin.c_str());
  } else {
    std::printf("  admin token:   in %s (mode 0600)\n", admin.c_str());
  }
  // Admins see no clinical content (records/policy.h): the first thing to try is a clinician.
  const std::string demo = log.dir.file("demo");
  if (std::filesystem::exists(demo + "/clinician.token")) {  // made by scripts/demo-identities.sh
    std::printf("  demo:          clinician, patient and auditor tokens in %s/ (see README)\n", demo.c_str());
    print_demo_sign_ins(base, demo);
    std::printf("  try:           curl -H \"Authorization: Bearer $(cat %s/clinician.token)\" %s/fhir/Patient\n",
                demo.c_str(), base.c_str());
  } else {
    std::printf("  a clinician:   C=$(%s token issue --data %s --role clinician --name dr.kask@hospital)\n",
                args.program.c_str(), log.dir.path().c_str());
    std::printf("  try:           curl -H \"Authorization: Bearer $C\" %s/fhir/Patient\n", base.c_str());
  }
  std::printf("  stop:          Ctrl-C (or SIGTERM)\n");
  std::fflush(stdout);
}

Result<std::vector<witness::WitnessConfig>> parse_witness_flags(const std::vector<std::string>& flags) {
  std::vector<witness::WitnessConfig> out;
  for (const std::string& flag : flags) {
    size_t eq = flag.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == flag.size()) {
      return Status::invalid("--witness must be URL=VKEY: " + flag);
    }
    auto key = load_vkey(flag.substr(eq + 1));
    if (!key) return Status::invalid("--witness " + flag.substr(0, eq) + ": " + key.status().message());
    out.push_back({flag.substr(0, eq), *key});
  }
  return out;
}

// The witnesses, their quorum and what each has cosigned so far, as `make run` shows it.
void print_witnesses(const witness::Cosigner& cosigner) {
  auto status = cosigner.status();
  std::printf("  witnesses:     %zu, quorum %zu (checkpoints are served once cosigned by the quorum)\n",
              status.size(), cosigner.quorum());
  for (const witness::WitnessStatus& w : status) {
    std::printf("    %s at %s\n", w.name.c_str(), w.url.c_str());
  }
  std::printf("  cosigned size: %llu\n", static_cast<unsigned long long>(cosigner.cosigned().size));
  std::fflush(stdout);
}

// The log's witnessing, if witnesses are configured: the cosigner, and the ledger view whose
// receipts carry its cosignatures.
struct Witnessing {
  std::unique_ptr<witness::Cosigner> cosigner;
  std::unique_ptr<witness::WitnessedLedger> ledger;
};

// What the portal gives browsers to verify receipts against: the log's key and the witnesses'.
server::PortalKeys portal_keys(const ServeArgs& args, const OpenLog& log, size_t quorum) {
  server::PortalKeys keys{note::format_verifier_key(note::verifier_of(log.key)), {}, quorum};
  if (auto configs = parse_witness_flags(args.witnesses)) {
    for (const witness::WitnessConfig& w : *configs) keys.witness_vkeys.push_back(note::format_verifier_key(w.key));
  }
  return keys;
}

Result<std::unique_ptr<Witnessing>> start_witnessing(const ServeArgs& args, OpenLog& log,
                                                     alerts::AlertSink& alerts) {
  auto configs = parse_witness_flags(args.witnesses);
  if (!configs) return configs.status();
  auto w = std::make_unique<Witnessing>();
  witness::CosignerOptions options;
  options.quorum = args.witness_quorum;
  options.state_file = log.dir.file(witness::kCosignedCheckpointFile);
  auto cosigner = witness::Cosigner::start(*log.ledger, *log.store, note::verifier_of(log.key),
                                           std::move(*configs), alerts, options);
  if (!cosigner) return cosigner.status();
  w->cosigner = std::move(*cosigner);
  w->ledger = std::make_unique<witness::WitnessedLedger>(*log.ledger, *log.store, *w->cosigner);
  return w;
}

// The one alert pipeline every detector of this server raises on (alerts/pipeline.h).
Result<std::unique_ptr<alerts::Pipeline>> start_alerts(const ServeArgs& args, OpenLog& log) {
  alerts::PipelineOptions options;
  options.outbox_path = log.dir.file(alerts::kOutboxFile);
  options.ledger = log.ledger.get();
  options.webhooks = args.alert_webhooks;
  options.syslogs = args.alert_syslogs;
  return alerts::Pipeline::start(std::move(options));
}

// The space reserve that keeps reads working on a full disk (server/disk_guard.h); null when
// --disk-reserve is 0, or with PostgreSQL, whose disk is not DATA's (a full one fails reads too).
Result<std::unique_ptr<server::DiskGuard>> start_disk_guard(const ServeArgs& args, OpenLog& log,
                                                            ledger::Ledger& ledger, alerts::AlertSink& alerts) {
  if (args.disk_reserve_mib == 0 || !args.store.empty()) return std::unique_ptr<server::DiskGuard>();
  server::DiskGuardOptions options;
  options.reserve_bytes = args.disk_reserve_mib << 20;
  return server::DiskGuard::start(ledger, storage::directory_volume(log.dir.path()), alerts, options);
}

Result<std::unique_ptr<tlog_client::TileSource>> open_source(const LogVerifyArgs& args) {
  if (!args.url.empty()) return tlog_client::open_http_source(args.url);
  return tlog_client::open_dir_source(args.dir, args.checkpoint);
}

void print_verified(const tlog_client::VerifyReport& r) {
  std::printf("verified %s at size %llu, root %s: %llu hash tiles, %llu entry bundles",
              r.checkpoint.origin.c_str(), static_cast<unsigned long long>(r.checkpoint.size),
              crypto::base64_encode(as_view(r.checkpoint.root)).c_str(),
              static_cast<unsigned long long>(r.hash_tiles), static_cast<unsigned long long>(r.bundles));
  if (r.old_size) {
    std::printf("; consistent with the checkpoint of size %llu",
                static_cast<unsigned long long>(*r.old_size));
  }
  std::printf("\n");
}

// The TLS options of serve's flags, checked: files that do not load are refused before anything
// starts. Plain HTTP is for loopback unless explicitly allowed.
Result<server::TlsOptions> tls_options(const ServeArgs& args, const std::string& host) {
  server::TlsOptions tls{args.tls_cert, args.tls_key, args.client_cas, args.crl, 0};
  if (args.tls_cert.empty() != args.tls_key.empty()) return Status::invalid("--tls-cert and --tls-key go together");
  if (!tls.enabled()) {
    if (!args.client_cas.empty() || !args.crl.empty()) return Status::invalid("--client-ca and --crl need --tls-cert");
    if (!server::is_loopback_host(host) && !args.allow_plain_http) {
      return Status::invalid("plain HTTP on " + host + " needs --allow-plain-http (or use --tls-cert and --tls-key)");
    }
    return tls;
  }
  auto nid = identity::parse_identity_field(args.identity_field);
  if (!nid) return Status::invalid("--identity-field: " + nid.status().message());
  tls.identity_nid = *nid;
  MEDSEAL_RETURN_IF_ERROR(server::check_tls_options(tls));
  return tls;
}

// How a running server tells who is calling: tokens, the users of client certificates, and the
// limit on failed attempts (auth-failure-burst alerts on `alerts`).
struct Authentication {
  std::unique_ptr<identity::TokenStore> tokens;
  std::unique_ptr<identity::UserRegistry> users;
  std::unique_ptr<identity::AuthFailureLimiter> limiter;
  std::unique_ptr<identity::Authenticator> authenticator;
};

Result<std::unique_ptr<Authentication>> open_authentication(const ServeArgs& args, const DataDir& dir,
                                                           alerts::AlertSink& alerts) {
  auto a = std::make_unique<Authentication>();
  auto tokens = identity::TokenStore::open(dir.file(kTokensFile));
  if (!tokens) return tokens.status();
  a->tokens = std::move(*tokens);
  auto users = identity::UserRegistry::open(dir.file(kUsersFile));
  if (!users) return users.status();
  a->users = std::move(*users);
  a->limiter = std::make_unique<identity::AuthFailureLimiter>(alerts, identity::AuthLimits{args.auth_failure_limit});
  a->authenticator = std::make_unique<identity::Authenticator>(*a->tokens, a->users.get(), a->limiter.get());
  return a;
}

}  // namespace

bool parse_listen_address(const std::string& text, ListenAddress* out) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  std::string host = text.substr(0, colon);
  std::string port = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return false;  // an IPv6 address needs brackets
  }
  if (port.empty() || port.size() > 5 || (port.size() > 1 && port[0] == '0')) return false;
  int value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value > 65535) return false;
  *out = ListenAddress{host, value};
  return true;
}

int run_keygen(const KeygenArgs& args) {
  if (!note::valid_key_name(args.origin)) return fail("keygen", "invalid origin: " + args.origin, kExitUsage);
  Status dir = make_private_dir(args.out_dir);
  if (!dir) return fail("keygen", dir);
  note::SignerKey key = note::generate_signer_key(args.origin);
  Status written = ledger::write_key_files(args.out_dir, key);
  if (!written) return fail("keygen", written);
  std::printf("%s\n", note::format_verifier_key(note::verifier_of(key)).c_str());
  return kExitOk;
}

// The server's store as the sentinel and forensics read it: the SQLite file, or `store` (a
// postgresql:// URL) when given.
sentinel::SentinelOptions store_options(const OpenLog& log, const std::string& store) {
  sentinel::SentinelOptions options;
  options.db_path = store.empty() ? log.dir.file(kStoreFile) : store;
  options.state_path = log.dir.file(kSentinelStateFile);
  options.vkey = note::verifier_of(log.key);
  return options;
}

// The tamper sentinel over the server's store (sentinel/sentinel.h), unless --no-sentinel; its
// access-anomaly rules were checked before anything started. It reads the store through a
// connection of its own (the SQLite file, or a PostgreSQL session: sentinel/pg_store_view.h).
Result<std::unique_ptr<sentinel::Sentinel>> start_sentinel(const ServeArgs& args, const OpenLog& log,
                                                           alerts::AlertSink& sink) {
  if (!args.sentinel) return std::unique_ptr<sentinel::Sentinel>();
  sentinel::SentinelOptions options = store_options(log, args.store);
  Result<sentinel::AccessRuleOptions> rules = access_rule_options(args.anomalies);
  if (!rules) return rules.status();
  options.access_rules = *rules;
  if (auto* sqlite = dynamic_cast<storage::SqliteStore*>(log.store.get())) {
    options.foreign_commits = [sqlite] { return sqlite->foreign_commits(); };
  }
  return sentinel::Sentinel::start(options, sink);
}

// GET /ledger/statements: one page at a time through a read-only connection of its own (opened
// at the first request), as the sentinel reads the store.
std::function<Result<std::string>(uint64_t, uint64_t)> statements_pages(const OpenLog& log,
                                                                        const std::string& store) {
  struct Reader {
    std::mutex mu;
    std::unique_ptr<sentinel::SentinelView> view;
  };
  auto reader = std::make_shared<Reader>();
  return [reader, location = store_options(log, store).db_path](uint64_t from, uint64_t count) -> Result<std::string> {
    std::lock_guard lock(reader->mu);
    if (!reader->view) {
      Result<std::unique_ptr<sentinel::SentinelView>> view = sentinel::open_sentinel_view(location);
      if (!view) return view.status();
      reader->view = std::move(*view);
    }
    return sentinel::read_integrity_page(*reader->view, from, count);
  };
}

// The connection limits of serve's flags, checked.
Result<server::ConnectionLimits> connection_limits(const ServeArgs& args) {
  if (args.max_header_bytes < 1024 || args.max_header_bytes > (1 << 20)) {
    return Status::invalid("--max-header-bytes must be 1024..1048576");
  }
  if (args.request_timeout_s < 1 || args.request_timeout_s > 3600) return Status::invalid("--request-timeout must be 1..3600");
  if (args.idle_timeout_s < 1 || args.idle_timeout_s > 3600) return Status::invalid("--idle-timeout must be 1..3600");
  server::ConnectionLimits limits;
  limits.max_header_bytes = args.max_header_bytes;
  limits.request_timeout = std::chrono::seconds(args.request_timeout_s);
  limits.idle_timeout = std::chrono::seconds(args.idle_timeout_s);
  limits.max_connections_per_client = args.max_connections_per_client;
  return limits;
}

int run_serve(const ServeArgs& args) {
  ListenAddress addr;
  if (!parse_listen_address(args.listen, &addr)) {
    return fail("serve", "--listen must be HOST:PORT (IPv6 as [ADDR]:PORT): " + args.listen, kExitUsage);
  }
  if (args.threads < 1 || args.threads > 4096) return fail("serve", "--threads must be 1..4096", kExitUsage);
  auto tls = tls_options(args, addr.host);
  if (!tls) return fail("serve", tls.status().message(), kExitUsage);
  if (auto rules = access_rule_options(args.anomalies); !rules) return fail("serve", rules.status());
  auto limits = connection_limits(args);
  if (!limits) return fail("serve", limits.status().message(), kExitUsage);
  // OpenSSL writes to sockets with write(): a client gone mid-reply must not kill the server.
  ::signal(SIGPIPE, SIG_IGN);
  // Before any thread exists (the ledger starts one), so every thread inherits the mask.
  sigset_t signals = shutdown_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // The store, its WAL and the alert outbox hold health data: owner-only like the key files.
  ::umask(077);
  auto log = open_log(args.data_dir, args.origin, args.store, /*node=*/true);
  if (!log) return fail("serve", log.status());
  if (args.witnesses.empty() && args.witness_quorum != 0) {
    return fail("serve", "--witness-quorum needs --witness", kExitUsage);
  }
  // Before everything that raises alerts on it (authentication, the cosigner, the sentinel) and
  // after the ledger, which its delivery appends alerts to: destroyed after the first and before
  // the second.
  auto alerts = start_alerts(args, **log);
  if (!alerts) return fail("serve", alerts.status());
  auto auth = open_authentication(args, (*log)->dir, **alerts);
  if (!auth) return fail("serve", auth.status());
  auto admin = identity::ensure_admin_token(*(*auth)->tokens, (*log)->dir.file(kAdminTokenFile));
  if (!admin) return fail("serve", admin.status());
  std::unique_ptr<Witnessing> witnessing;
  if (!args.witnesses.empty()) {
    auto started = start_witnessing(args, **log, **alerts);
    if (!started) return fail("serve", started.status());
    witnessing = std::move(*started);
  }
  ledger::Ledger& ledger = witnessing ? *witnessing->ledger : *(*log)->ledger;
  records::RecordOptions record_options;
  record_options.alerts = alerts->get();  // break-glass
  auto disk = start_disk_guard(args, **log, ledger, **alerts);
  if (!disk) return fail("serve", disk.status());
  records::RecordService records(*disk ? **disk : ledger, *(*log)->store, system_clock(), record_options);
  std::string host_port = url_host(addr.host) + ":" + std::to_string(addr.port);
  server::fhir::ApiOptions api_options{host_port};
  api_options.statements_page = statements_pages(**log, args.store);
  server::HttpOptions options{addr.host, addr.port, args.threads, args.access_log};
  options.tls = *tls;
  options.limits = *limits;
  // A refused card counts as a failed authentication of its source and person, and is logged.
  options.tls.certificate_refused = [limiter = (*auth)->limiter.get()](const std::string& source,
                                                                       const std::string& person,
                                                                       const std::string& reason) {
    limiter->record_failure(source, person.empty() ? "" : "person:" + person);
    server::log_json("warning", "client certificate refused", {{"source", source}, {"person", person}, {"reason", reason}});
  };
  if (witnessing) {
    const witness::Cosigner& cosigner = *witnessing->cosigner;
    api_options.receipt_witnessed = [&cosigner](std::string_view r) {
      return witness::is_witnessed_receipt(cosigner, r);
    };
    options.witnessed = [&cosigner] { return cosigner.cosigned(); };
  }
  server::fhir::Api api(records, *(*auth)->authenticator, records::r4_resource_types(), system_clock(), api_options);
  server::AlertsHttp alerts_http(**alerts, *(*auth)->authenticator);
  options.alerts = &alerts_http;
  server::PortalHttp portal(*(*auth)->authenticator,
                            portal_keys(args, **log, witnessing ? witnessing->cosigner->quorum() : 0));
  options.portal = &portal;
  server::ForensicsHttp forensics_http(records, *(*auth)->authenticator, store_options(**log, args.store), system_clock());
  options.forensics = &forensics_http;
  options.disk = disk->get();
  auto* node_ledger = dynamic_cast<cluster::NodeLedger*>((*log)->ledger.get());
  std::optional<cluster::LeaderForwarder> forwarder;
  if (node_ledger) {
    auto secret = storage::postgres::cluster_secret(args.store, cluster::kClusterSecretBytes);
    if (!secret) return fail("serve", secret.status());
    const std::string& trust_file = args.cluster_ca.empty() ? args.tls_cert : args.cluster_ca;
    Result<std::string> trusted = trust_file.empty() ? Result<std::string>(std::string())
                                                     : read_file_bounded(trust_file, 1 << 20);
    if (!trusted) return fail("serve", trusted.status());
    options.forward = &forwarder.emplace(*node_ledger, args.store, std::move(*secret), std::move(*trusted));
  }
  server::HttpServer http(ledger, options, &api);
  auto port = http.bind();
  if (!port) return fail("serve", port.status());
  std::unique_ptr<cluster::ClusterNode> node;  // destroyed first: its thread reloads `records`
  if (node_ledger) {
    // Named fields: "{}" for poll and watch would make them 0 ms (not their defaults), and a
    // leader would then check its lock, and a follower try for it, in a busy loop.
    cluster::ClusterOptions cluster;
    cluster.store_url = args.store;
    cluster.advertise = args.advertise;
    cluster.on_promoted = [&records] { return records.reload(); };
    if (cluster.advertise.empty()) {
      cluster.advertise = (tls->enabled() ? "https://" : "http://") + url_host(addr.host) + ":" + std::to_string(*port);
    }
    node = std::make_unique<cluster::ClusterNode>(*node_ledger, (*log)->key, std::move(cluster));
  }
  auto sentinel = start_sentinel(args, **log, **alerts);
  if (!sentinel) return fail("serve", sentinel.status());

  std::string base = (tls->enabled() ? "https://" : "http://") + url_host(addr.host) + ":" + std::to_string(*port);
  print_usage_hints(args, **log, base, *admin);
  if (witnessing) print_witnesses(*witnessing->cosigner);
  server::log_json("info", "serving", {{"url", base}, {"origin", (*log)->key.name},
                                       {"size", (*log)->ledger->head().size}});
  alerts::Pipeline& pipeline = **alerts;
  return serve_until_signal("serve", [&http] { return http.run(); }, [&http, &pipeline] {
    pipeline.close_subscriptions();  // alert streams end now rather than at their next tick
    http.stop();
  });
}

int run_log_append(const LogAppendArgs& args) {
  auto log = open_log(args.data_dir, args.origin, args.store);
  if (!log) return fail("log append", log.status());
  ledger::Ledger& ledger = *(*log)->ledger;
  Progress progress("appended");
  uint64_t appended = 0;
  std::vector<ledger::AppendRequest> chunk;
  auto flush = [&]() -> Status {
    size_t n = chunk.size();
    if (n == 0) return Status::ok();
    auto first = ledger.append_all(std::move(chunk));
    chunk.clear();
    if (!first) return first.status();
    appended += n;
    progress.update(appended);
    return Status::ok();
  };
  std::ios::sync_with_stdio(false);
  std::string line;
  while (std::getline(std::cin, line)) {
    chunk.push_back({ledger::EntryKind::kSystem, std::move(line), 0});
    if (chunk.size() < kAppendChunk) continue;
    Status s = flush();
    if (!s) return fail("log append", s);
  }
  Status s = flush();
  if (!s) return fail("log append", s);
  progress.finish(appended);
  std::printf("appended %llu entries; the log has %llu\n", static_cast<unsigned long long>(appended),
              static_cast<unsigned long long>(ledger.head().size));
  return kExitOk;
}

int run_log_verify(const LogVerifyArgs& args) {
  if (args.url.empty() == args.dir.empty()) return fail("log verify", "give exactly one of --url and --dir", kExitUsage);
  if (!args.checkpoint.empty() && args.dir.empty()) return fail("log verify", "--checkpoint needs --dir", kExitUsage);
  auto vkey = load_vkey(args.vkey);
  if (!vkey) return fail("log verify", vkey.status());
  tlog_client::VerifyOptions options;
  if (!args.old.empty()) {
    auto old = read_input_file(args.old, tlog_client::kMaxCheckpointBytes);
    if (!old) return fail("log verify", old.status());
    options.old_checkpoint = std::move(*old);
  }
  auto source = open_source(args);
  if (!source) return fail("log verify", source.status());
  Result<tlog_client::VerifyReport> report = Status::internal("not run");
  {
    Progress progress("verifying tiles");
    options.progress = [&progress](uint64_t done, uint64_t total) { progress.update(done, total); };
    report = tlog_client::verify_log(**source, *vkey, options);
    if (report) progress.finish(report->hash_tiles, report->hash_tiles);
  }
  if (!report) return fail("log verify", (*source)->describe() + ": " + report.status().message(), kExitFailure);
  if (!args.save.empty()) {
    Status saved = write_text_file(args.save, report->checkpoint_note);
    if (!saved) return fail("log verify", saved);
  }
  print_verified(*report);
  return kExitOk;
}

}  // namespace medseal::cli
