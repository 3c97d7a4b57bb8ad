// The status machine and the rules of domain/payment.hpp, exhaustively.
#include "domain/payment.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>

namespace payment {
namespace {

using S = PaymentStatus;
using A = PaymentAction;

TEST(Status, RoundTripsThroughItsName) {
  for (auto s : kAllStatuses) EXPECT_EQ(parse_status(to_string(s)), s);
  EXPECT_EQ(to_string(S::Pending), "PENDING");
  EXPECT_EQ(to_string(S::Cancelled), "CANCELLED");
  EXPECT_EQ(parse_status("refunded"), S::Refunded) << "any case, as the order service takes its own";
  EXPECT_EQ(parse_status("Pending"), S::Pending);
  for (const char* bad : {"", "PAID", "CONFIRMED ", "pendinG\n", "REFUNDE"}) EXPECT_FALSE(parse_status(bad)) << bad;
}

TEST(Status, OnlyPendingAndConfirmedAreLive) {
  EXPECT_TRUE(is_live(S::Pending));
  EXPECT_TRUE(is_live(S::Confirmed));
  EXPECT_FALSE(is_live(S::Refunded));
  EXPECT_FALSE(is_live(S::Cancelled));
}

TEST(StatusMachine, EveryStatusAndActionPair) {
  const std::map<std::pair<S, A>, S> allowed = {
      {{S::Pending, A::Confirm}, S::Confirmed},
      {{S::Confirmed, A::Refund}, S::Refunded},
      {{S::Pending, A::OrderCancelled}, S::Cancelled},
      {{S::Confirmed, A::OrderCancelled}, S::Refunded},
  };
  for (auto s : kAllStatuses) {
    for (auto a : kAllActions) {
      auto it = allowed.find({s, a});
      auto next = next_status(s, a);
      if (it == allowed.end()) {
        EXPECT_FALSE(next) << to_string(s) << " action " << static_cast<int>(a);
      } else {
        EXPECT_EQ(next, it->second) << to_string(s) << " action " << static_cast<int>(a);
      }
    }
  }
}

TEST(StatusMachine, EveryFromToPair) {
  const std::set<std::pair<S, S>> allowed = {
      {S::Pending, S::Confirmed}, {S::Confirmed, S::Refunded}, {S::Pending, S::Cancelled}};
  for (auto from : kAllStatuses) {
    for (auto to : kAllStatuses) {
      EXPECT_EQ(can_transition(from, to), allowed.contains({from, to})) << to_string(from) << " -> " << to_string(to);
    }
  }
}

TEST(StatusMachine, FinalStatusesHaveNoWayOut) {
  for (auto a : kAllActions) {
    EXPECT_FALSE(next_status(S::Refunded, a));
    EXPECT_FALSE(next_status(S::Cancelled, a));
  }
}

Payment payment_in(S status) { return Payment{5, 9, 1999, status, "t0", "t1"}; }

TEST(RequestedStatus, IsWhereAClientActionLeads) {
  EXPECT_EQ(requested_status(A::Confirm), S::Confirmed);
  EXPECT_EQ(requested_status(A::Refund), S::Refunded);
  EXPECT_FALSE(requested_status(A::OrderCancelled));  // CANCELLED or REFUNDED, by the payment's status
}

// Every (status, action) pair: a move, a repeat of a move already made, or a refusal.
TEST(Decide, MovesRepeatsOrRefusesEveryPair) {
  const std::set<std::pair<S, A>> repeats = {{S::Confirmed, A::Confirm}, {S::Refunded, A::Refund}};
  for (auto s : kAllStatuses) {
    for (auto a : kAllActions) {
      auto d = decide(payment_in(s), a, false);
      bool repeat = repeats.contains({s, a});
      std::string pair = std::string(to_string(s)) + " action " + std::to_string(static_cast<int>(a));
      auto next = next_status(s, a);
      EXPECT_EQ(d.verdict, repeat ? Verdict::AlreadyApplied : next ? Verdict::Apply : Verdict::Refused) << pair;
      if (d.verdict == Verdict::Apply) {
        EXPECT_EQ(d.next, *next) << pair;
      }
      EXPECT_EQ(d.refusal.empty(), d.verdict != Verdict::Refused) << pair;
    }
  }
}

TEST(Decide, ARepeatIsAnAppliedNoOpEvenOnceTheOrderIsCancelled) {
  for (bool order_cancelled : {false, true}) {
    EXPECT_EQ(decide(payment_in(S::Confirmed), A::Confirm, order_cancelled).verdict, Verdict::AlreadyApplied);
    EXPECT_EQ(decide(payment_in(S::Refunded), A::Refund, order_cancelled).verdict, Verdict::AlreadyApplied);
  }
}

// The order service's word against a confirm counts only for a payment still PENDING under
// the lock: one a concurrent confirm has CONFIRMED (its order PAID since) is a repeat, and one
// that went on is refused for its own status.
TEST(Decide, TheOrdersRefusalStopsOnlyAPendingPayment) {
  const std::optional<std::string> refusal = "Order 9 is PAID; payment 5 can no longer be confirmed.";
  auto pending = decide(payment_in(S::Pending), A::Confirm, false, refusal);
  EXPECT_EQ(pending.verdict, Verdict::Refused);
  EXPECT_EQ(pending.refusal, *refusal);
  EXPECT_EQ(decide(payment_in(S::Confirmed), A::Confirm, false, refusal).verdict, Verdict::AlreadyApplied);
  EXPECT_NE(decide(payment_in(S::Refunded), A::Confirm, false, refusal).refusal.find("is REFUNDED"), std::string::npos);
  EXPECT_EQ(decide(payment_in(S::Confirmed), A::Refund, false, refusal).verdict, Verdict::Apply);
}

TEST(Decide, OnlyTheRequestedStatusIsARepeat) {
  // Confirm of a payment that went on (REFUNDED) or away (CANCELLED), refund of one that
  // never got there: still 409s.
  for (auto [s, a] : std::initializer_list<std::pair<S, A>>{
           {S::Refunded, A::Confirm}, {S::Cancelled, A::Confirm}, {S::Pending, A::Refund}, {S::Cancelled, A::Refund}}) {
    EXPECT_EQ(decide(payment_in(s), a, false).verdict, Verdict::Refused) << to_string(s);
  }
}

TEST(Decide, RefusalSaysTheCurrentStatusAndWhatIsNeeded) {
  EXPECT_EQ(decide(payment_in(S::Refunded), A::Confirm, false).refusal,
            "Payment 5 is REFUNDED; only a PENDING payment can be confirmed.");
  EXPECT_EQ(decide(payment_in(S::Cancelled), A::Confirm, false).refusal,
            "Payment 5 is CANCELLED; only a PENDING payment can be confirmed.");
  EXPECT_EQ(decide(payment_in(S::Pending), A::Refund, false).refusal,
            "Payment 5 is PENDING; only a CONFIRMED payment can be refunded.");
  EXPECT_EQ(decide(payment_in(S::Cancelled), A::Refund, false).refusal,
            "Payment 5 is CANCELLED; only a CONFIRMED payment can be refunded.");
}

TEST(Decide, ACancelledOrdersPaymentCannotBeConfirmedButCanBeRefunded) {
  auto d = decide(payment_in(S::Pending), A::Confirm, true);
  EXPECT_EQ(d.verdict, Verdict::Refused);
  EXPECT_EQ(d.refusal, "Order 9 was cancelled; payment 5 can no longer be confirmed (it is PENDING).");
  for (auto [s, a, to] : std::initializer_list<std::tuple<S, A, S>>{{S::Confirmed, A::Refund, S::Refunded},
                                                                    {S::Confirmed, A::OrderCancelled, S::Refunded},
                                                                    {S::Pending, A::OrderCancelled, S::Cancelled}}) {
    auto moved = decide(payment_in(s), a, true);
    EXPECT_EQ(moved.verdict, Verdict::Apply) << to_string(s);
    EXPECT_EQ(moved.next, to) << to_string(s);
  }
}

TEST(Payable, OnlyAConfirmedOrderForItsExactTotal) {
  OrderSnapshot o{9, "CONFIRMED", 1999};
  EXPECT_EQ(check_payable(o, 1999), Payability::Payable);
  EXPECT_EQ(check_payable(o, 1998), Payability::AmountMismatch);
  EXPECT_EQ(check_payable(o, 2000), Payability::AmountMismatch);
  EXPECT_EQ(check_payable(o, 0), Payability::AmountMismatch);
  // A free order (every product priced 0.00) is paid with 0.00: its total.
  o.total_cents = 0;
  EXPECT_EQ(check_payable(o, 0), Payability::Payable);
  EXPECT_EQ(check_payable(o, 1), Payability::AmountMismatch);
  o.total_cents = 1999;
  for (const char* status : {"PENDING", "REJECTED", "CANCELLED", "PAID", "SHIPPED", "DELIVERED", "REFUNDED"}) {
    o.status = status;
    EXPECT_EQ(check_payable(o, 1999), Payability::OrderNotConfirmed) << status;
  }
}

// The order's word decides a PENDING payment's confirm: only CONFIRMED lets it through.
TEST(ConfirmRefusal, OnlyWhileTheOrderIsStillConfirmed) {
  const Payment p{5, 9, 1999, PaymentStatus::Pending, "t0", "t0"};
  EXPECT_EQ(confirm_refusal(p, OrderSnapshot{9, "CONFIRMED", 1999}), std::nullopt);
  for (const char* status : {"CANCELLED", "PAID", "REFUNDED", "PENDING", "REJECTED"}) {
    EXPECT_EQ(confirm_refusal(p, OrderSnapshot{9, status, 1999}),
              "Order 9 is " + std::string(status) + "; payment 5 can no longer be confirmed.");
  }
  EXPECT_EQ(confirm_refusal(p, std::nullopt), "Order 9 does not exist; payment 5 can no longer be confirmed.");
}

}  // namespace
}  // namespace payment
