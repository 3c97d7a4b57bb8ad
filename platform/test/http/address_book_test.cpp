// A host's addresses: resolved once and kept, never waited for past the caller's deadline,
// and the last good ones used while the resolver fails or is slow.
#include "sales/http/address_book.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sales_test/eventually.hpp"
#include "sales_test/fake_resolver.hpp"

namespace sales::http {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using sales_test::FakeResolver;

// A resolution's answer reaches the book just after the resolver returns: poll for it.
bool eventually(const std::function<bool()>& done) { return sales_test::eventually(done, 10s, 1ms); }

TEST(AddressBook, ResolvesOnceAndKeepsTheAnswer) {
  FakeResolver dns;
  dns.answer({"10.0.0.7"});
  AddressBook book("order", dns.resolver());
  EXPECT_EQ(book.lookup(Clock::now() + 5s), Addresses{"10.0.0.7"});
  EXPECT_EQ(book.lookup(Clock::now() + 5s), Addresses{"10.0.0.7"});
  EXPECT_EQ(dns.calls(), 1);
}

TEST(AddressBook, AHostThatResolvedOnceKeepsItsAddressesWhenTheResolverFails) {
  FakeResolver dns;
  dns.answer({"10.0.0.7"});
  AddressBook book("order", dns.resolver());
  ASSERT_EQ(book.lookup(Clock::now() + 5s), Addresses{"10.0.0.7"});
  dns.fail();
  book.connect_failed();  // asks for a new resolution, which fails
  EXPECT_EQ(book.lookup(Clock::now() + 5s), Addresses{"10.0.0.7"});
  EXPECT_EQ(dns.calls(), 2);
}

TEST(AddressBook, ANewAnswerReplacesTheOldAfterAFailedConnect) {
  FakeResolver dns;
  dns.answer({"10.0.0.7"});
  AddressBook book("order", dns.resolver());
  ASSERT_EQ(book.lookup(Clock::now() + 5s), Addresses{"10.0.0.7"});
  dns.answer({"10.0.0.9"});
  book.connect_failed();
  EXPECT_EQ(book.lookup(Clock::now() + 5s), Addresses{"10.0.0.9"});
}

TEST(AddressBook, AFailingResolverWithNothingToFallBackOnSaysWhy) {
  FakeResolver dns;
  AddressBook book("order", dns.resolver());
  try {
    book.lookup(Clock::now() + 5s);
    FAIL() << "nothing resolved";
  } catch (const ResolveError& e) {
    EXPECT_FALSE(e.timed_out());
    EXPECT_NE(std::string(e.what()).find("resolve order: Temporary failure"), std::string::npos) << e.what();
  }
}

TEST(AddressBook, AFailureIsTheAnswerForASecondInsteadOfAResolutionPerCall) {
  FakeResolver dns;
  AddressBook book("order", dns.resolver());
  EXPECT_THROW(book.lookup(Clock::now() + 5s), ResolveError);
  EXPECT_THROW(book.lookup(Clock::now() + 5s), ResolveError);
  EXPECT_EQ(dns.calls(), 1);
  AddressBook eager("order", dns.resolver(), {.retry_failed_after = Clock::duration::zero()});
  EXPECT_THROW(eager.lookup(Clock::now() + 5s), ResolveError);
  EXPECT_THROW(eager.lookup(Clock::now() + 5s), ResolveError);
  EXPECT_EQ(dns.calls(), 3);
}

TEST(AddressBook, AResolverThatDoesNotAnswerIsNotWaitedForPastTheDeadline) {
  FakeResolver dns;
  dns.answer({"10.0.0.7"});
  dns.hold();
  AddressBook book("order", dns.resolver());
  try {
    book.lookup(Clock::now() + 50ms);
    FAIL() << "nothing resolved in time";
  } catch (const ResolveError& e) {
    EXPECT_TRUE(e.timed_out());
    EXPECT_NE(std::string(e.what()).find("before the deadline"), std::string::npos) << e.what();
  }
  EXPECT_EQ(dns.running(), 1) << "the lookup returned while the resolver still blocked";
  dns.release();
  ASSERT_TRUE(dns.wait_idle());
}

TEST(AddressBook, ASlowResolverFallsBackToTheLastGoodAddresses) {
  FakeResolver dns;
  dns.answer({"10.0.0.7"});
  AddressBook book("order", dns.resolver(), {.fallback_wait = 20ms});
  ASSERT_EQ(book.lookup(Clock::now() + 5s), Addresses{"10.0.0.7"});
  dns.hold();
  dns.answer({"10.0.0.9"});
  book.connect_failed();
  EXPECT_EQ(book.lookup(Clock::now() + 30s), Addresses{"10.0.0.7"});
  EXPECT_EQ(dns.running(), 1) << "used the old addresses while the resolver still blocked";
  dns.release();
  EXPECT_TRUE(eventually([&] { return book.lookup(Clock::now() + 5s) == Addresses{"10.0.0.9"}; }))
      << "the late answer is kept";
}

TEST(AddressBook, CallsWaitingTogetherShareOneResolution) {
  FakeResolver dns;
  dns.answer({"10.0.0.7"});
  dns.hold();
  AddressBook book("order", dns.resolver());
  std::atomic<int> answered{0};
  std::vector<std::thread> calls;
  for (int i = 0; i < 4; ++i) {
    calls.emplace_back([&] {
      if (book.lookup(Clock::now() + 10s) == Addresses{"10.0.0.7"}) ++answered;
    });
  }
  ASSERT_TRUE(eventually([&] { return dns.calls() == 1; }));
  dns.release();
  for (auto& t : calls) t.join();
  EXPECT_EQ(answered.load(), 4);
  EXPECT_EQ(dns.calls(), 1);
}

TEST(AddressBook, OldAddressesAreRefreshedWithoutMakingACallWait) {
  FakeResolver dns;
  dns.answer({"10.0.0.7"});
  AddressBook book("order", dns.resolver(), {.refresh_after = 0s});
  ASSERT_EQ(book.lookup(Clock::now() + 5s), Addresses{"10.0.0.7"});
  dns.hold();
  dns.answer({"10.0.0.9"});
  EXPECT_EQ(book.lookup(Clock::now() + 5s), Addresses{"10.0.0.7"}) << "answered at once, refreshed behind";
  ASSERT_TRUE(eventually([&] { return dns.calls() == 2; }));
  dns.release();
  EXPECT_TRUE(eventually([&] { return book.lookup(Clock::now() + 5s) == Addresses{"10.0.0.9"}; }));
}

TEST(AddressBook, AnEventLoopIsWokenWhenTheResolutionEnds) {
  FakeResolver dns;
  dns.answer({"10.0.0.7"});
  dns.hold();
  AddressBook book("order", dns.resolver());
  std::atomic<bool> woken{false};
  auto until = book.begin(Clock::now() + 10s, [&] { woken = true; });
  ASSERT_TRUE(until.has_value()) << "nothing resolved yet: the caller has to wait";
  EXPECT_FALSE(woken.load());
  dns.release();
  ASSERT_TRUE(eventually([&] { return woken.load(); }));
  EXPECT_EQ(book.answer(), Addresses{"10.0.0.7"});
  EXPECT_FALSE(book.begin(Clock::now() + 10s, [] {}).has_value()) << "resolved: nothing to wait for";
}

TEST(AddressBook, AResolutionThatHangsHoldsTheNameOnlyUntilItIsOverdue) {
  FakeResolver dns;
  dns.answer({"10.0.0.7"});
  dns.hold();  // a query sent before the resolver knew the name: it hangs
  AddressBook book("order", dns.resolver(), {.overdue_after = 20ms});
  EXPECT_THROW(book.lookup(Clock::now() + 5ms), ResolveError);
  EXPECT_THROW(book.lookup(Clock::now() + 5ms), ResolveError) << "not overdue yet: no second resolution";
  EXPECT_EQ(dns.calls(), 1);
  dns.answer_new_calls();
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(book.lookup(Clock::now() + 5s), Addresses{"10.0.0.7"}) << "a new resolution beside the hung one";
  EXPECT_EQ(dns.calls(), 2);
  EXPECT_EQ(dns.running(), 1) << "the first still hangs";
  dns.release();
  ASSERT_TRUE(dns.wait_idle());
}

TEST(AddressBook, AtMostMaxResolutionsRunAtOnce) {
  FakeResolver dns;
  dns.answer({"10.0.0.7"});
  dns.hold();
  AddressBook book("order", dns.resolver(), {.overdue_after = 0s, .max_resolutions = 3});
  for (int i = 0; i < 10; ++i) EXPECT_THROW(book.lookup(Clock::now() + 1ms), ResolveError);
  ASSERT_TRUE(eventually([&] { return dns.running() == 3; }));
  EXPECT_EQ(dns.calls(), 3);
  dns.release();
  ASSERT_TRUE(dns.wait_idle());
  EXPECT_EQ(book.lookup(Clock::now() + 5s), Addresses{"10.0.0.7"});
}

TEST(AddressBook, AnOverdueAnswerArrivingLastDoesNotReplaceANewerOne) {
  FakeResolver dns;
  dns.answer({"10.0.0.7"});
  dns.hold();
  AddressBook book("order", dns.resolver(), {.overdue_after = 0s});
  EXPECT_THROW(book.lookup(Clock::now() + 1ms), ResolveError);
  dns.answer_new_calls();
  dns.answer({"10.0.0.9"});
  EXPECT_EQ(book.lookup(Clock::now() + 5s), Addresses{"10.0.0.9"});
  dns.answer({"10.0.0.7"});  // what the hung query returns when it ends
  dns.release();
  ASSERT_TRUE(dns.wait_idle());
  EXPECT_EQ(book.lookup(Clock::now() + 5s), Addresses{"10.0.0.9"});
  EXPECT_EQ(dns.calls(), 2);
}

TEST(AddressBook, AFailureWhileAnotherResolutionRunsLeavesTheCallWaitingForIt) {
  // Two resolutions steered one by one: the first fails, then the second answers.
  std::atomic<int> calls{0};
  std::atomic<bool> first_may_fail{false};
  std::atomic<bool> second_may_answer{false};
  Resolver resolver = [&](const std::string&) -> Addresses {
    const int call = ++calls;
    auto& gate = call == 1 ? first_may_fail : second_may_answer;
    eventually([&] { return gate.load(); });
    if (call == 1) throw std::runtime_error("Temporary failure in name resolution");
    return {"10.0.0.7"};
  };
  AddressBook book("order", resolver, {.overdue_after = 0s});
  EXPECT_THROW(book.lookup(Clock::now() + 1ms), ResolveError);
  std::atomic<bool> woken{false};
  ASSERT_TRUE(book.begin(Clock::now() + 10s, [&] { woken = true; }).has_value());
  ASSERT_TRUE(eventually([&] { return calls == 2; }));
  first_may_fail = true;
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(woken.load()) << "woken by a failure while the second resolution still ran";
  second_may_answer = true;
  ASSERT_TRUE(eventually([&] { return woken.load(); }));
  EXPECT_EQ(book.answer(), Addresses{"10.0.0.7"});
}

TEST(AddressBook, AnIpAddressIsItsOwnAnswerWithoutEverAskingTheResolver) {
  FakeResolver dns;
  dns.answer({"10.0.0.9"});
  dns.hold();  // a resolution, were one started, would block: the answers below are at once
  for (const auto& [host, address] : {std::pair{"127.0.0.1", "127.0.0.1"}, {"::1", "::1"}, {"[::1]", "::1"}}) {
    SCOPED_TRACE(host);
    AddressBook book(host, dns.resolver(), {.refresh_after = 0s});  // addresses would always be due
    EXPECT_EQ(book.lookup(Clock::now() + 1s), Addresses{address});
    EXPECT_FALSE(book.begin(Clock::now() + 1s, [] {}).has_value()) << "an event loop need not wait";
    EXPECT_EQ(book.answer(), Addresses{address});
    book.connect_failed();
    EXPECT_EQ(book.lookup(Clock::now() + 1s), Addresses{address}) << "a failed connect does not resolve it again";
  }
  std::this_thread::sleep_for(20ms);  // time for a wrongly started resolver thread to call
  EXPECT_EQ(dns.calls(), 0);
  dns.release();
}

TEST(AddressBook, AHostThatOnlyLooksNumericIsResolved) {
  FakeResolver dns;
  dns.answer({"10.0.0.7"});
  AddressBook book("10.0.0", dns.resolver());  // not an address inet_pton takes
  EXPECT_EQ(book.lookup(Clock::now() + 5s), Addresses{"10.0.0.7"});
  EXPECT_EQ(dns.calls(), 1);
}

TEST(SystemResolver, ANumericHostIsItsOwnAddress) {
  EXPECT_EQ(system_resolver()("127.0.0.1"), Addresses{"127.0.0.1"});
  EXPECT_THROW(system_resolver()("no-such-host.invalid"), std::exception);
}

}  // namespace
}  // namespace sales::http
