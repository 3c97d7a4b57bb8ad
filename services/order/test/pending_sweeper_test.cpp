// The PENDING sweep against PostgreSQL: which orders get order.created again, and when.
#include "events/pending_sweeper.hpp"

#include <gtest/gtest.h>

#include "order_db.hpp"

namespace order {
namespace {

using namespace std::chrono_literals;

// Placed `placed_s` seconds ago, last touched `touched_s` seconds ago.
constexpr pg::Statement kTestAgeOrder{
    "test_order_age",
    "UPDATE orders SET created_at = now() - $2 * interval '1 second', updated_at = now() - $3 * interval '1 second' "
    "WHERE id = $1"};

class PendingSweeperTest : public OrderDbTest {
 protected:
  void SetUp() override {
    OrderDbTest::SetUp();
    if (HasFatalFailure()) return;
    sweeper_ = std::make_unique<PendingSweeper>(*pool_, *store_, registry_, 30s, 10s, 15min);
  }
  void TearDown() override {
    sweeper_.reset();
    OrderDbTest::TearDown();
  }

  void age(std::int64_t id, std::int64_t placed_s, std::int64_t touched_s) {
    pg::exec(*pool_, kTestAgeOrder, {pg::param(id), pg::param(placed_s), pg::param(touched_s)});
  }

  // The orders whose order.created the last sweep wrote to the outbox; the outbox is emptied.
  std::vector<std::int64_t> resent() {
    std::vector<std::int64_t> ids;
    for (const auto& e : take_outbox()) {
      EXPECT_EQ(e.type, "order.created");
      ids.push_back(e.data.at("order_id").to_number<std::int64_t>());
    }
    return ids;
  }

  sales::metrics::Registry registry_;
  std::unique_ptr<PendingSweeper> sweeper_;
};

TEST_F(PendingSweeperTest, AnOrderPendingPastTheAgeIsSentAgainWithItsLinesAndAddress) {
  auto stale = place(3, {{7, 2, 1999}, {8, 1, 500}}).id;
  place();  // just placed: not due
  auto confirmed = place().id;
  take_outbox();
  age(stale, 31, 31);
  age(confirmed, 31, 31);
  pg::exec(*pool_, kTestSetStatus, {pg::param(confirmed), pg::param("CONFIRMED")});

  EXPECT_EQ(sweeper_->sweep(), 1);
  auto out = take_outbox();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, "order.created");
  EXPECT_EQ(out[0].data.at("order_id").to_number<std::int64_t>(), stale);
  EXPECT_EQ(out[0].data.at("customer_id").to_number<std::int64_t>(), 3);
  EXPECT_EQ(out[0].data.at("items").as_array().size(), 2u);
  EXPECT_EQ(out[0].data.at("shipping_address").as_string(), "1 Main St");
  EXPECT_EQ(out[0].correlation_id, "order-" + std::to_string(stale));
  EXPECT_EQ(status_of(stale), Status::Pending) << "a re-send changes nothing but the time";
  EXPECT_EQ(sweeper_->sweep(), 0) << "touched: not due again at once";
}

TEST_F(PendingSweeperTest, TheGapsBetweenResendsDoubleUpToTheCap) {
  auto id = place().id;
  take_outbox();
  age(id, 100, 100);  // placed 100 s ago, never re-sent
  EXPECT_EQ(sweeper_->sweep(), 1);
  EXPECT_EQ(resent(), std::vector<std::int64_t>{id});

  // Re-sent when it had waited 100 s: the next one is due 100 s later, not 30 s.
  age(id, 160, 60);
  EXPECT_EQ(sweeper_->sweep(), 0) << "60 s after a re-send that came 100 s after placing";
  EXPECT_TRUE(resent().empty());
  age(id, 201, 101);
  EXPECT_EQ(sweeper_->sweep(), 1) << "101 s after a re-send that came 100 s after placing";
  EXPECT_EQ(resent(), std::vector<std::int64_t>{id});

  // Placed ten hours ago: the gap stops growing at 15 minutes.
  age(id, 36000, 14 * 60);
  EXPECT_EQ(sweeper_->sweep(), 0);
  age(id, 36000, 15 * 60 + 1);
  EXPECT_EQ(sweeper_->sweep(), 1);
  EXPECT_EQ(resent(), std::vector<std::int64_t>{id});
}

}  // namespace
}  // namespace order
