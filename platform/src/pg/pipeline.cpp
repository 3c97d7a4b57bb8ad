// Several statements in one round trip: libpq's pipeline mode, entered and left around each
// call so the connection is an ordinary one in between.
#include <libpq-fe.h>

#include <algorithm>
#include <ranges>

#include "cancel_at_deadline.hpp"
#include "param_values.hpp"
#include "sales/pg/pool.hpp"

namespace sales::pg {
namespace {

// What was sent, in order: each answers with one result.
struct Sent {
  std::string name;  // the statement (or command) it belongs to
  bool prepare = false;
  std::size_t step = 0;
};

}  // namespace

// Half a pipeline on the wire or in the buffers: this connection is not used again.
void Connection::lost(const std::string& what) {
  broken_ = true;
  throw Error(what + ": " + PQerrorMessage(conn_), Error::kNoServer);
}

std::vector<Result> Connection::exec_pipeline(const std::vector<Step>& steps) {
  if (steps.empty()) throw std::invalid_argument("exec_pipeline: no steps");
  failed_step_ = steps.size();
  // A pipeline outside a transaction that does not open one commits at its sync.
  auto sqls = steps | std::views::transform([](const Step& s) { return s.st ? s.st->sql : s.command; });
  const bool commits = detail::trip_may_commit(PQtransactionStatus(conn_) != PQTRANS_IDLE, sqls);
  detail::CancelAtDeadline cancel(commits ? nullptr : cancel_);  // never a trip that may commit
  if (PQenterPipelineMode(conn_) != 1) fail("pipeline", nullptr);
  std::vector<Sent> sent;
  bool ok = true;
  for (std::size_t i = 0; ok && i < steps.size(); ++i) {
    const Step& s = steps[i];
    if (!s.st) {
      ok = PQsendQueryParams(conn_, std::string(s.command).c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
      sent.push_back({std::string(s.command), false, i});
      continue;
    }
    std::string name(s.st->name);
    const bool per_call = s.st->plan == Plan::per_call;
    bool preparing = std::any_of(sent.begin(), sent.end(), [&](const Sent& x) { return x.prepare && x.name == name; });
    if (!per_call && !is_prepared(name) && !preparing) {
      ok = PQsendPrepare(conn_, name.c_str(), std::string(s.st->sql).c_str(), 0, nullptr) == 1;
      sent.push_back({name, true, i});
    }
    auto values = param_values(s.params);
    const int n = static_cast<int>(values.size());
    ok = ok && (per_call ? PQsendQueryParams(conn_, std::string(s.st->sql).c_str(), n, nullptr, values.data(), nullptr,
                                             nullptr, 0)
                         : PQsendQueryPrepared(conn_, name.c_str(), n, values.data(), nullptr, nullptr, 0)) == 1;
    sent.push_back({name, false, i});
  }
  if (!ok || PQpipelineSync(conn_) != 1) lost("pipeline send");

  std::vector<Result> results;
  results.reserve(steps.size());
  std::string error_what;
  Result error(nullptr);
  for (const Sent& s : sent) {
    Result r(PQgetResult(conn_));
    if (!r.res_) lost(s.name);  // no more answers
    while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);  // up to the end of this one
    auto status = PQresultStatus(r.res_);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      if (s.prepare) prepared_.push_back(s.name);
    } else if (status != PGRES_PIPELINE_ABORTED && !error.res_) {
      error_what = s.prepare ? "prepare " + s.name : s.name;
      failed_step_ = s.step;
      error = std::move(r);
      continue;
    }
    if (!s.prepare) results.push_back(std::move(r));
  }
  Result sync(PQgetResult(conn_));
  if (PQresultStatus(sync.res_) != PGRES_PIPELINE_SYNC || PQexitPipelineMode(conn_) != 1) lost("pipeline sync");
  if (error.res_) fail(error_what, error.res_, cancel.fired());
  return results;
}

}  // namespace sales::pg
