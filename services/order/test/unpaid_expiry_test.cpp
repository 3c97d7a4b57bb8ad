// The expiry of unpaid orders against PostgreSQL: a CONFIRMED order left unpaid past the
// timeout is cancelled, with its order.cancelled (which releases its stock); nothing else is,
// an order the payment service says is paid becomes PAID, and nothing changes while the
// payment service cannot be asked.
#include "events/unpaid_expiry.hpp"

#include <gtest/gtest.h>

#include "fake_directory.hpp"
#include "order_db.hpp"
#include "sales/events/envelope.hpp"

namespace order {
namespace {

using namespace std::chrono_literals;

// Status set by hand (the saga's path is tested elsewhere), unchanged for `seconds`.
constexpr pg::Statement kTestUnpaidFor{
    "test_order_unpaid_for",
    "UPDATE orders SET status = $2, updated_at = now() - $3 * interval '1 second' WHERE id = $1"};

// The lease's next round due now, as once the interval has passed; a day ahead, as after the
// database's clock was set back; gone, as after a TRUNCATE.
constexpr pg::Statement kTestRoundDue{"test_unpaid_round_due", "UPDATE unpaid_round SET next_at = now()"};
constexpr pg::Statement kTestRoundDueInADay{"test_unpaid_round_in_a_day",
                                            "UPDATE unpaid_round SET next_at = now() + interval '1 day'"};
constexpr pg::Statement kTestNoLease{"test_unpaid_round_gone", "DELETE FROM unpaid_round"};

class UnpaidExpiryTest : public OrderDbTest {
 protected:
  void SetUp() override {
    OrderDbTest::SetUp();
    if (HasFatalFailure()) return;
    expiry_ = std::make_unique<UnpaidExpiry>(*pool_, *store_, payments_, registry_, 60min);
  }
  void TearDown() override {
    expiry_.reset();
    OrderDbTest::TearDown();
  }

  std::int64_t order_in(const char* status, std::int64_t seconds) {
    auto id = place().id;
    pg::exec(*pool_, kTestUnpaidFor, {pg::param(id), pg::param(status), pg::param(seconds)});
    return id;
  }

  // A second order replica's expiry on the same database (its counters in the same registry).
  UnpaidExpiry another_replica() { return UnpaidExpiry(*pool_, *store_, payments_, registry_, 60min); }

  std::uint64_t rounds(const char* outcome) {
    return registry_.counter("sales_order_unpaid_rounds_total", "", {{"outcome", outcome}}).value();
  }

  sales::metrics::Registry registry_;
  FakeDirectory payments_;
  std::unique_ptr<UnpaidExpiry> expiry_;
};

TEST_F(UnpaidExpiryTest, AnOrderConfirmedAndUnpaidPastTheTimeoutIsCancelledAndAnnounced) {
  auto unpaid = order_in("CONFIRMED", 3601);
  auto recent = order_in("CONFIRMED", 3500);
  auto paid = order_in("PAID", 7200);
  auto pending = order_in("PENDING", 7200);
  auto rejected = order_in("REJECTED", 7200);
  take_outbox();

  EXPECT_EQ(expiry_->sweep(), 1);
  auto cancelled = sole_event("order.cancelled");
  EXPECT_EQ(cancelled.data.at("order_id").to_number<std::int64_t>(), unpaid);
  auto order = store_->find(unpaid);
  ASSERT_TRUE(order);
  EXPECT_EQ(order->status, Status::Cancelled);
  ASSERT_FALSE(order->history.empty());
  EXPECT_EQ(order->history.back().reason, "no payment within 60 min");
  EXPECT_EQ(status_of(recent), Status::Confirmed);
  EXPECT_EQ(status_of(paid), Status::Paid);
  EXPECT_EQ(status_of(pending), Status::Pending) << "the PENDING sweep's, not this one's";
  EXPECT_EQ(status_of(rejected), Status::Rejected);
  EXPECT_EQ(expiry_->sweep(), 0) << "cancelled once";
  EXPECT_TRUE(take_outbox().empty());
}

// The payment service is asked first: a payment confirmed there whose event has not come
// within the timeout of the confirmation (a dead letter, a purged queue) makes its order PAID,
// as the event would have, with order.paid for shipping; one confirmed since keeps its order
// (the event may be on the way); unreachable, it changes no order.
TEST_F(UnpaidExpiryTest, AnOrderThePaymentServiceSaysIsPaidBecomesPaidAndNothingGoesUnasked) {
  auto paid_there = order_in("CONFIRMED", 4000);
  auto unpaid = order_in("CONFIRMED", 4000);
  take_outbox();
  payments_.paid_orders[paid_there] = {9, sales::events::rfc3339(std::chrono::system_clock::now() - 59min)};
  payments_.down = true;
  EXPECT_THROW(expiry_->sweep(), DirectoryUnavailable);
  EXPECT_EQ(status_of(unpaid), Status::Confirmed) << "cancelled without asking";
  EXPECT_EQ(status_of(paid_there), Status::Confirmed) << "paid without asking";
  payments_.down = false;
  EXPECT_EQ(expiry_->sweep(), 1);
  EXPECT_EQ(status_of(paid_there), Status::Confirmed) << "confirmed 59 min ago: its event may be on the way";
  EXPECT_EQ(take_outbox().size(), 1u) << "the unpaid one's order.cancelled";
  payments_.paid_orders[paid_there].at = sales::events::rfc3339(std::chrono::system_clock::now() - 61min);
  EXPECT_EQ(expiry_->sweep(), 0);
  EXPECT_EQ(status_of(unpaid), Status::Cancelled);
  EXPECT_EQ(status_of(paid_there), Status::Paid);
  EXPECT_EQ(store_->peek(paid_there)->paid_by, 9) << "a ship asks the payment service about this payment";
  EXPECT_EQ(store_->find(paid_there)->history.back().reason, "payment 9 confirmed (the payment service's word)");
  auto events = take_outbox();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "order.paid");
  EXPECT_EQ(registry_.counter("sales_order_payments_recovered_total", "").value(), 1u);
  EXPECT_EQ(expiry_->sweep(), 0);
  EXPECT_TRUE(take_outbox().empty()) << "each once";
}

// A client paying when the time runs out: an order whose PENDING payment was started within
// the timeout is kept, and cancelled once that payment is as old (order.cancelled then
// cancels the payment).
TEST_F(UnpaidExpiryTest, AnOrderWhosePaymentWasStartedWithinTheTimeoutIsKeptUntilThatIsAsOld) {
  auto paying = order_in("CONFIRMED", 4000);
  auto gave_up = order_in("CONFIRMED", 8000);
  take_outbox();
  const auto now = std::chrono::system_clock::now();
  payments_.pending_payments[paying] = sales::events::rfc3339(now - 59min);
  payments_.pending_payments[gave_up] = sales::events::rfc3339(now - 61min);
  EXPECT_EQ(expiry_->sweep(), 1);
  EXPECT_EQ(status_of(paying), Status::Confirmed) << "its payment is under way";
  EXPECT_EQ(status_of(gave_up), Status::Cancelled);
  payments_.pending_payments[paying] = sales::events::rfc3339(now - 61min);
  EXPECT_EQ(expiry_->sweep(), 1);
  EXPECT_EQ(status_of(paying), Status::Cancelled);
  EXPECT_EQ(take_outbox().size(), 2u);
}

// Replicas share one round per interval (the lease row): a replica whose timer fires while
// another's round was taken within the interval asks the payment service nothing and
// changes nothing; once the round is due again, it runs.
TEST_F(UnpaidExpiryTest, OneRoundPerIntervalAcrossReplicas) {
  UnpaidExpiry other_replica = another_replica();
  auto first = order_in("CONFIRMED", 4000);
  EXPECT_EQ(expiry_->round_if_due(), 1);
  EXPECT_EQ(status_of(first), Status::Cancelled);
  auto second = order_in("CONFIRMED", 4000);
  payments_.seen_request_ids.clear();
  EXPECT_EQ(other_replica.round_if_due(), std::nullopt) << "a second round within the interval";
  EXPECT_TRUE(payments_.seen_request_ids.empty()) << "asked within another replica's interval";
  EXPECT_EQ(status_of(second), Status::Confirmed);
  pg::exec(*pool_, kTestRoundDue);
  EXPECT_EQ(other_replica.round_if_due(), 1);
  EXPECT_EQ(status_of(second), Status::Cancelled);
  EXPECT_EQ(payments_.seen_request_ids.size(), 1u) << "the cancelled one is not asked about again";
  // Both replicas count into one registry here; each process has its own.
  EXPECT_EQ(rounds("ran"), 2u);
  EXPECT_EQ(rounds("skipped"), 1u);
}

// A replica whose round fails (here: the payment service does not answer it) hands the
// lease back, so the next replica to tick runs the round at once instead of finding it
// taken for the interval: one impaired replica cannot hold every round.
TEST_F(UnpaidExpiryTest, AFailedRoundIsHandedToTheNextReplica) {
  UnpaidExpiry other_replica = another_replica();
  auto unpaid = order_in("CONFIRMED", 4000);
  payments_.down = true;
  EXPECT_THROW(expiry_->round_if_due(), DirectoryUnavailable);
  EXPECT_EQ(status_of(unpaid), Status::Confirmed);
  payments_.down = false;
  EXPECT_EQ(other_replica.round_if_due(), 1) << "the failed round kept the lease";
  EXPECT_EQ(status_of(unpaid), Status::Cancelled);
  EXPECT_EQ(rounds("failed"), 1u);
  EXPECT_EQ(rounds("ran"), 1u);
  EXPECT_EQ(rounds("skipped"), 0u);
}

// A replica samples the newest order id on every tick, also when another replica has the
// round: its bound stays as tight as if it ran every round. Here it sampled before `late`
// was placed, so its round does not read `late` (made unchanged for an hour by hand; a real
// one placed after the sample could not be).
TEST_F(UnpaidExpiryTest, AReplicaSamplesItsBoundAlsoOnTicksThatFindTheRoundTaken) {
  UnpaidExpiry other_replica = another_replica();
  EXPECT_NE(expiry_->round_if_due(), std::nullopt);
  EXPECT_EQ(other_replica.round_if_due(), std::nullopt);
  auto late = order_in("CONFIRMED", 4000);
  pg::exec(*pool_, kTestRoundDue);
  EXPECT_EQ(other_replica.round_if_due(), 0);
  EXPECT_EQ(status_of(late), Status::Confirmed);
}

// The lease cannot stall the rounds for good: a next round further ahead than a take sets it
// (the database's clock was set back) is due, and an emptied table gets its row back.
TEST_F(UnpaidExpiryTest, TheLeaseRecoversFromAClockSetBackAndAnEmptiedTable) {
  EXPECT_NE(expiry_->round_if_due(), std::nullopt);
  pg::exec(*pool_, kTestRoundDueInADay);
  EXPECT_NE(expiry_->round_if_due(), std::nullopt) << "a lease a day ahead held the round";
  EXPECT_EQ(expiry_->round_if_due(), std::nullopt) << "taken just now";
  pg::exec(*pool_, kTestNoLease);
  EXPECT_NE(expiry_->round_if_due(), std::nullopt) << "no row, no round";
  EXPECT_EQ(expiry_->round_if_due(), std::nullopt) << "the row is back, taken just now";
}

// A round whose lease cannot be handed back (here a trigger refuses that update only) still
// reports its own failure; the lease then comes due at its time, as without the hand-back.
TEST_F(UnpaidExpiryTest, AFailedRoundReportsItsOwnFailureWhenTheHandBackFails) {
  order_in("CONFIRMED", 4000);
  pool_->acquire()->exec_raw(
      "CREATE FUNCTION test_refuse_hand_back() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
      "IF NEW.next_at <= now() THEN RAISE 'refused'; END IF; RETURN NEW; END $$; "
      "CREATE TRIGGER test_refuse_hand_back BEFORE UPDATE ON unpaid_round FOR EACH ROW "
      "EXECUTE FUNCTION test_refuse_hand_back()");
  payments_.down = true;
  EXPECT_THROW(expiry_->round_if_due(), DirectoryUnavailable);
  EXPECT_EQ(rounds("failed"), 1u);
  EXPECT_EQ(expiry_->round_if_due(), std::nullopt) << "handed back after all";
}

// A round run outside the schedule with no lease row (an emptied table) starts from the oldest.
TEST_F(UnpaidExpiryTest, ARoundWithoutALeaseRowStartsFromTheOldest) {
  auto unpaid = order_in("CONFIRMED", 4000);
  pg::exec(*pool_, kTestNoLease);
  EXPECT_EQ(expiry_->sweep(), 1);
  EXPECT_EQ(status_of(unpaid), Status::Cancelled);
}

// A round the database ends (here the cursor cannot be written after the payment service
// failed it) reports the round's own failure, not the cursor write's.
TEST_F(UnpaidExpiryTest, ARoundReportsItsOwnFailureWhenTheCursorCannotBeSaved) {
  order_in("CONFIRMED", 4000);
  pool_->acquire()->exec_raw(
      "CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE 'refused'; END $$; "
      "CREATE TRIGGER test_refuse BEFORE UPDATE ON unpaid_round FOR EACH ROW EXECUTE FUNCTION test_refuse()");
  payments_.down = true;
  EXPECT_THROW(expiry_->sweep(), DirectoryUnavailable);
}

// A round that ends early goes on, next time and on any replica, after the last order it
// settled: orders kept (their payment under way) cannot hold newer ones back for ever.
TEST_F(UnpaidExpiryTest, ARoundGoesOnWhereTheLastOneStopped) {
  auto first = order_in("CONFIRMED", 4000);
  auto second = order_in("CONFIRMED", 4000);
  auto unpaid = order_in("CONFIRMED", 4000);
  take_outbox();
  const auto paying_now = sales::events::rfc3339(std::chrono::system_clock::now());
  payments_.pending_payments = {{first, paying_now}, {second, paying_now}};
  payments_.payment_answers_left = 2;
  EXPECT_THROW(expiry_->sweep(), DirectoryUnavailable);
  payments_.down = false;
  payments_.payment_answers_left = 1;  // only one more: the round must begin at `unpaid`
  UnpaidExpiry other_replica = another_replica();  // the place is shared
  EXPECT_EQ(other_replica.sweep(), 1);
  EXPECT_EQ(status_of(unpaid), Status::Cancelled);
  EXPECT_EQ(status_of(first), Status::Confirmed);
  EXPECT_EQ(status_of(second), Status::Confirmed);
  // That round reached the end: the next one starts from the oldest again.
  payments_.pending_payments.clear();
  payments_.payment_answers_left = -1;
  EXPECT_EQ(expiry_->sweep(), 2);
}

// A round reads the orders placed before its bound (the newest id sampled no earlier than the
// timeout ago), not every CONFIRMED one: an order placed after the sample is not read. (Such
// an order cannot be unchanged for the timeout; this one is made so by hand, to be seen.) A
// fresh expiry (a restart) samples the newest id now, which covers it.
TEST_F(UnpaidExpiryTest, ARoundReadsOnlyTheOrdersPlacedBeforeItsSampledBound) {
  EXPECT_EQ(expiry_->sweep(), 0);  // samples the newest id
  auto after_the_sample = order_in("CONFIRMED", 7200);
  take_outbox();
  EXPECT_EQ(expiry_->sweep(), 0) << "past the bound: not read";
  EXPECT_EQ(status_of(after_the_sample), Status::Confirmed);
  UnpaidExpiry restarted(*pool_, *store_, payments_, registry_, 60min);
  EXPECT_EQ(restarted.sweep(), 1);
  EXPECT_EQ(status_of(after_the_sample), Status::Cancelled);
}

// More than one batch is worked off in one round, past orders that are kept.
TEST_F(UnpaidExpiryTest, ABacklogIsCancelledInBatches) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 130; ++i) ids.push_back(order_in("CONFIRMED", 4000));
  take_outbox();
  payments_.paid_orders[ids.front()] = {1};
  EXPECT_EQ(expiry_->sweep(), 129);
  EXPECT_EQ(status_of(ids.front()), Status::Paid);
  EXPECT_EQ(status_of(ids.back()), Status::Cancelled);
  EXPECT_EQ(take_outbox().size(), 130u);
  EXPECT_EQ(expiry_->sweep(), 0);
}

}  // namespace
}  // namespace order
