// The stock feed against a real database: changes of one product within a flush interval
// leave as one inventory.stock_changed with the latest level, no level is lost to a change
// racing the flush, and an idle feed costs no transaction.
#include <boost/json/parse.hpp>
#include <chrono>
#include <set>
#include <utility>

#include "store/stock_feed_flusher.hpp"
#include "store_fixture.hpp"

namespace inventory::testing {
namespace {

using namespace std::chrono_literals;

inline constexpr pg::Statement kFeedRow{"test_feed_row",
                                        "SELECT stock, version, changes FROM stock_feed WHERE product_id = $1"};
inline constexpr pg::Statement kFeedRows{"test_feed_rows", "SELECT count(*) FROM stock_feed"};
// A feed row as another replica's commit leaves it: nothing in this process announces it.
inline constexpr pg::Statement kFeedRowOfAnotherReplica{
    "test_feed_row_of_another_replica",
    "INSERT INTO stock_feed (product_id, stock, version, correlation_id) VALUES ($1::bigint, $2, $3, 'product-' || $1::bigint) "
    "ON CONFLICT (product_id) DO UPDATE SET stock = excluded.stock, version = excluded.version"};

struct Level {
  std::int64_t product_id, stock, version;
  bool operator<(const Level& o) const {
    return std::pair(product_id, version) < std::pair(o.product_id, o.version);
  }
};

class StockFeedTest : public StoreTest {
 protected:
  // Every inventory.stock_changed in the outbox, oldest first.
  std::vector<Level> levels_sent() {
    std::vector<Level> out;
    for (const auto& row : outbox()) {
      if (row.type != "inventory.stock_changed") continue;
      auto envelope = boost::json::parse(row.payload);
      const auto& data = envelope.at("data").as_object();
      out.push_back({data.at("product_id").as_int64(), data.at("stock").as_int64(), data.at("version").as_int64()});
    }
    return out;
  }
  // {stock, version, changes} of the product's feed row; empty when none waits.
  std::vector<std::int64_t> feed_row(std::int64_t product_id) {
    auto r = pg::exec(*pool_, kFeedRow, {pg::param(product_id)});
    if (r.empty()) return {};
    return {r.int64(0, 0), r.int64(0, 1), r.int64(0, 2)};
  }
  std::int64_t feed_rows() { return pg::exec(*pool_, kFeedRows).int64(0, 0); }
  void take(std::int64_t product_id, std::int64_t quantity) {
    committed([&](pg::Transaction& tx) { return change_stock(tx, product_id, -quantity, MovementKind::Take); });
  }
  static std::uint64_t counted(sales::metrics::Registry& registry, const char* name) {
    return registry.counter(name, "").value();
  }
};

TEST_F(StockFeedTest, ChangesOfOneProductBetweenFlushesLeaveAsOneEventWithTheLatestLevel) {
  create_product(1, 5);
  create_product(2, 3);
  EXPECT_EQ(events_of("inventory.stock_changed"), 0) << "nothing is enqueued before the flush";
  auto first = flush_feed();
  EXPECT_EQ(first.events, 2);
  EXPECT_EQ(first.changes, 2);

  reserve_order(10, {{1, 2}});
  reserve_order(11, {{1, 1}});
  cancel_order(10);
  committed([](pg::Transaction& tx) { return change_stock(tx, 1, 4, MovementKind::Adjust); });
  EXPECT_EQ(feed_row(1), (std::vector<std::int64_t>{8, 5, 4}));  // 5 − 2 − 1 + 2 + 4, version 5, 4 changes

  auto second = flush_feed();
  EXPECT_EQ(second.events, 1);
  EXPECT_EQ(second.changes, 4);
  auto sent = levels_sent();
  ASSERT_EQ(sent.size(), 3U);
  EXPECT_EQ(sent.back().product_id, 1);
  EXPECT_EQ(sent.back().stock, 8);
  EXPECT_EQ(sent.back().version, 5);
  EXPECT_NE(last_payload("inventory.stock_changed").find(R"("correlation_id":"product-1")"), std::string::npos)
      << "the latest change's correlation id (the adjustment's)";
  EXPECT_EQ(feed_rows(), 0);

  auto idle = flush_feed();
  EXPECT_EQ(idle.events, 0);
  EXPECT_EQ(events_of("inventory.stock_changed"), 3);
  EXPECT_EQ(invariant_violations(), 0);
}

TEST_F(StockFeedTest, AStaleReadDeletesNoNewerLevel) {
  create_product(1, 5);
  std::vector<PendingLevel> read;
  {
    pg::Transaction tx(*pool_);
    read = read_pending(tx, 10);
  }  // rolled back: the lock is gone, as if another flusher had read and stalled
  take(1, 1);
  committed([&](pg::Transaction& tx) { move_to_outbox(tx, read); });
  EXPECT_EQ(feed_row(1), (std::vector<std::int64_t>{4, 2, 2})) << "the row with version 2 must stay";
  flush_feed();
  auto sent = levels_sent();
  ASSERT_EQ(sent.size(), 2U);
  EXPECT_EQ(sent.back().stock, 4);
  EXPECT_EQ(sent.back().version, 2);
}

TEST_F(StockFeedTest, AChangeMadeWhileAFlushHoldsTheRowIsKeptForTheNextFlush) {
  create_product(1, 5);
  pg::Transaction flush(*pool_);
  auto read = read_pending(flush, 10);
  ASSERT_EQ(read.size(), 1U);
  std::jthread change([&] { take(1, 1); });  // waits for the flush's row lock
  ASSERT_TRUE(eventually([&] {
    return someone_waits_for_a_lock();
  })) << "the change never waited for the flush";
  move_to_outbox(flush, read);
  flush.commit();
  change.join();

  EXPECT_EQ(feed_row(1), (std::vector<std::int64_t>{4, 2, 1}));
  flush_feed();
  auto sent = levels_sent();
  ASSERT_EQ(sent.size(), 2U);
  EXPECT_EQ(sent[0].version, 1);
  EXPECT_EQ(sent[1].stock, 4);
  EXPECT_EQ(sent[1].version, 2);
}

// A product changing all the time (a flash sale's) has its feed row held by a change in
// flight nearly always: the batch skips it, and the held rows are then waited for one at a
// time (up to a bound), so its read copy moves during the rush, not after it.
TEST_F(StockFeedTest, ARowHeldByAChangeInFlightIsWaitedForAndFlushedAfterItsCommit) {
  create_product(1, 5);  // its level waits in the feed (version 1)
  pg::Transaction change(*pool_);
  change_stock(change, 1, -1, MovementKind::Take);  // holds that row until COMMIT (version 2)
  auto batch = flush_stock_feed(*pool_, 10, 10);
  EXPECT_EQ(batch.events, 0) << "the batch skips the held row";
  EXPECT_EQ(batch.skipped, std::vector<std::int64_t>{1}) << "and names it";
  FlushCount timed_out;
  flush_held_rows(*pool_, batch.skipped, 50ms, timed_out);
  EXPECT_EQ(timed_out.events, 0) << "held past the wait: left for the next round";
  FlushCount held;
  std::jthread flusher([&] { flush_held_rows(*pool_, batch.skipped, 10s, held); });
  ASSERT_TRUE(eventually([&] {
    return someone_waits_for_a_lock();
  })) << "the flush never waited for the row";
  change.commit();
  flusher.join();
  EXPECT_EQ(held.events, 1);
  EXPECT_EQ(feed_rows(), 0);
  auto sent = levels_sent();
  ASSERT_EQ(sent.size(), 1U) << "the level the change replaced was never sent: only the latest is";
  EXPECT_EQ(sent.back().stock, 4);
  EXPECT_EQ(sent.back().version, 2);
}

TEST_F(StockFeedTest, AnIdleFlusherRunsNoTransactionAndAWokenOneGathersItsInterval) {
  sales::metrics::Registry registry;
  // An interval far longer than the five small commits below, so a loaded machine cannot split them.
  StockFeedFlusher flusher(*pool_, {.interval = 3000ms, .poll = 1h}, registry);
  flusher.start();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(counted(registry, "sales_inventory_stock_feed_flushes_total"), 0U);

  create_product(1, 10);  // wakes it; the takes below land within its interval
  for (int i = 0; i < 4; ++i) take(1, 1);
  ASSERT_TRUE(eventually([&] { return events_of("inventory.stock_changed") > 0; }));
  std::this_thread::sleep_for(100ms);
  auto sent = levels_sent();
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_EQ(sent[0].stock, 6);
  EXPECT_EQ(sent[0].version, 5);
  EXPECT_EQ(counted(registry, "sales_inventory_stock_feed_flushes_total"), 1U);
  EXPECT_EQ(counted(registry, "sales_inventory_stock_feed_events_total"), 1U);
  EXPECT_EQ(counted(registry, "sales_inventory_stock_feed_changes_total"), 5U);
}

TEST_F(StockFeedTest, AtStartAndThenEveryPollItFlushesRowsNoCommitAnnounced) {
  create_product(1, 10);  // before start: no flusher hears of it, as after a crash
  sales::metrics::Registry registry;
  StockFeedFlusher flusher(*pool_, {.interval = 1h, .poll = 100ms}, registry);
  flusher.start();
  ASSERT_TRUE(eventually([&] { return levels_sent().size() == 1; })) << "the first poll comes at start";

  pg::exec(*pool_, kFeedRowOfAnotherReplica, {pg::param(std::int64_t{1}), pg::param(std::int64_t{7}),
                                              pg::param(std::int64_t{2})});
  ASSERT_TRUE(eventually([&] { return levels_sent().size() == 2; })) << "the slow poll never found the row";
  EXPECT_EQ(levels_sent().back().stock, 7);
  EXPECT_EQ(feed_rows(), 0);
  EXPECT_EQ(counted(registry, "sales_inventory_stock_feed_failures_total"), 0U);
}

TEST_F(StockFeedTest, StoppingFlushesWhatTheIntervalGathered) {
  sales::metrics::Registry registry;
  StockFeedFlusher flusher(*pool_, {.interval = 1h, .poll = 1h}, registry);
  flusher.start();
  create_product(1, 10);
  flusher.stop();
  EXPECT_EQ(levels_sent().size(), 1U);
  EXPECT_EQ(feed_rows(), 0);
}

TEST_F(StockFeedTest, TwoFlushersUnderConcurrentChangesSendEveryLevelOnceAndTheLastOneAtAll) {
  create_product(1, 1000);
  create_product(2, 1000);
  sales::metrics::Registry registry;
  StockFeedFlusher a(*pool_, {.interval = 0ms, .poll = 50ms}, registry);
  StockFeedFlusher b(*pool_, {.interval = 0ms, .poll = 50ms}, registry);
  a.start();
  b.start();
  auto failures = run_concurrently(200, [&](int i) {
    if (i % 4 == 0) reserve_order(100 + i, {{1, 1}, {2, 2}});
    else take(1 + i % 2, 1);
  });
  EXPECT_TRUE(failures.empty()) << failures.front();
  ASSERT_TRUE(eventually([&] { return feed_rows() == 0; }));
  a.stop();
  b.stop();

  std::set<Level> seen;
  for (const auto& level : levels_sent()) EXPECT_TRUE(seen.insert(level).second) << "version sent twice: " << level.version;
  for (std::int64_t p : {1, 2}) {
    auto last = std::prev(seen.lower_bound({p + 1, 0, 0}));
    ASSERT_EQ(last->product_id, p);
    EXPECT_EQ(last->stock, stock_of(p)) << p;
  }
  EXPECT_EQ(invariant_violations(), 0);
}

}  // namespace
}  // namespace inventory::testing
