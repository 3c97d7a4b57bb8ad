#include "sales/service/idempotency.hpp"

#include <atomic>

#include "sales/json/canonical.hpp"
#include "sales/problem/problem.hpp"

namespace sales::service {

namespace {
constexpr std::string_view kSchema = R"sql(
CREATE TABLE idempotency_keys (
  scope        text        NOT NULL,
  key          text        NOT NULL,
  request_hash text        NOT NULL,
  status       integer,
  body         text,
  location     text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
)sql";
// request_hash stays the hash of the request's bytes (its route and body), which a version
// before this one compares: in a rolling update, or after a rollback, a repeat that reaches
// such a replica is still told from another request as it was. The canonical hash beside it
// is what this version compares; a key stored without one (by an older version) is compared
// by its bytes. A column without a default: added without rewriting the table.
constexpr std::string_view kCanonicalHash = R"sql(
ALTER TABLE idempotency_keys ADD COLUMN request_canonical_hash text;
)sql";

// $3: md5 of the request's bytes, $4: of its canonical form. request_hash may hold either:
// images 714cbc3 to 759c3bc stored the canonical one there.
constexpr pg::Statement kClaim{"idem_claim",
                               "INSERT INTO idempotency_keys (scope, key, request_hash, request_canonical_hash) "
                               "VALUES ($1, $2, md5($3), md5($4)) ON CONFLICT DO NOTHING"};
constexpr pg::Statement kStored{"idem_stored",
                                "SELECT COALESCE(request_canonical_hash = md5($4), false) OR request_hash IN (md5($3), md5($4)), "
                                "status, body, location FROM idempotency_keys WHERE scope = $1 AND key = $2"};
constexpr pg::Statement kRemember{"idem_remember",
                                  "UPDATE idempotency_keys SET status = $3, body = $4, location = $5 "
                                  "WHERE scope = $1 AND key = $2"};
// Keys are kept at least 24 h (the contract); older than 48 h they go, a bounded batch at a
// time, in a statement of its own so a slow prune never fails a request.
constexpr pg::Statement kPrune{"idem_prune",
                               "DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys "
                               "WHERE created_at < now() - interval '48 hours' LIMIT 1000)"};
constexpr int kPruneEvery = 1000;
}  // namespace

std::vector<pg::Migration> with_idempotency_migrations(std::vector<pg::Migration> migrations) {
  migrations.push_back({9001, "9001_idempotency_keys", kSchema});
  migrations.push_back({9002, "9002_idempotency_canonical_hash", kCanonicalHash});
  return migrations;
}

std::optional<std::string> idempotency_key(const http::Request& req) {
  auto key = req.headers.get("Idempotency-Key");
  if (!key) return std::nullopt;
  if (req.headers.count("Idempotency-Key") > 1) {
    throw ProblemError(Problem::bad_request("The Idempotency-Key header was sent more than once; send one key.",
                                            {{"Idempotency-Key", "must be sent once"}}));
  }
  bool printable = !key->empty();
  for (char c : *key) printable = printable && c >= 0x20 && c < 0x7f;
  if (!printable || key->size() > kMaxIdempotencyKeyLength) {
    throw ProblemError(Problem::bad_request("The Idempotency-Key header must be 1 to 255 printable ASCII characters.",
                                            {{"Idempotency-Key", "must be 1 to 255 printable ASCII characters"}}));
  }
  return std::string(*key);
}

namespace {
// A keyed request as the table compares it: its bytes (request_hash, which every earlier
// image compares) and its canonical JSON (request_canonical_hash). Made once per request,
// not once per try of its transaction.
struct ClaimTexts {
  std::string verbatim;
  std::string canonical;
};

ClaimTexts texts_of(KeyedRequest request) {
  ClaimTexts t{std::string(request.route).append(request.body), {}};
  const auto canonical_body = json::canonical(request.body);
  t.canonical = canonical_body ? std::string(request.route).append(*canonical_body) : t.verbatim;
  return t;
}

// Inside `tx`: nullopt when this request is the first with the key (go on, then call
// remember()); the stored response for a repeat; throws 422 for the key with another request.
std::optional<http::Response> claim(pg::Transaction& tx, std::string_view scope, std::string_view key,
                                    const ClaimTexts& texts) {
  const std::vector<pg::Param> params{pg::param(scope), pg::param(key), pg::param(texts.verbatim),
                                      pg::param(texts.canonical)};
  if (tx.exec(kClaim, params).affected() == 1) return std::nullopt;
  auto r = tx.exec(kStored, params);
  if (r.empty() || r.is_null(0, 1)) {
    // The claiming transaction rolled back between our insert and select: a retry works.
    throw ProblemError(Problem::conflict("A request with this Idempotency-Key is being processed; retry shortly."));
  }
  if (r.text(0, 0) != "t") {
    throw ProblemError(Problem::unprocessable(
        "This Idempotency-Key was used with a different request; use a new key for a new request.",
        {{"Idempotency-Key", "was used with a different request"}}));
  }
  http::Response res = http::Response::json(static_cast<int>(r.int64(0, 1)), r.str(0, 2));
  if (!r.is_null(0, 3)) res.headers.set("Location", r.str(0, 3));
  res.headers.set("Idempotent-Replayed", "true");
  return res;
}

void remember(pg::Transaction& tx, std::string_view scope, std::string_view key, const http::Response& response) {
  std::optional<std::string> location;
  if (auto l = response.headers.get("Location")) location = std::string(*l);
  tx.exec_later(kRemember, {pg::param(scope), pg::param(key), pg::param(static_cast<std::int64_t>(response.status)),
                            pg::param(response.body), pg::param(location)});
}
}  // namespace

http::Response run_once(pg::Pool& pool, std::string_view scope, const std::optional<std::string>& key,
                        KeyedRequest request, const std::function<http::Response(pg::Transaction&)>& work) {
  // A deadlock or serialization failure rolls all of it back, the key's claim too: it runs
  // again, as a consumer's does.
  const auto texts = key ? texts_of(request) : ClaimTexts{};
  auto response = pg::with_retry(pool, pg::Isolation::ReadCommitted, [&](pg::Transaction& tx) {
    if (key) {
      if (auto stored = claim(tx, scope, *key, texts)) return *stored;
    }
    auto answer = work(tx);
    if (key) remember(tx, scope, *key, answer);
    tx.commit();
    return answer;
  });
  static std::atomic<int> runs{0};
  if (key && ++runs % kPruneEvery == 0) {
    try {
      prune_idempotency_keys(pool);
    } catch (const pg::Error&) {
      // Another replica pruning, or a busy moment: the next turn prunes.
    }
  }
  return response;
}

void prune_idempotency_keys(pg::Pool& pool) { pg::exec(pool, kPrune); }

std::optional<http::Response> stored_response(pg::Pool& pool, std::string_view scope,
                                              const std::optional<std::string>& key, KeyedRequest request) {
  if (!key) return std::nullopt;
  pg::Transaction peek(pool);  // never committed: a new key's claim goes with it
  return claim(peek, scope, *key, texts_of(request));
}

}  // namespace sales::service
