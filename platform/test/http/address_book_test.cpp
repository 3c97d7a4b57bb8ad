// A host's addresses: resolved once and kept, never waited for past the caller's deadline,
// and the last good ones used while the resolver fails or is slow.
#include "sales/http/address_book.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sales/metrics/metrics.hpp"
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

// Resolutions that each wait for the test's word, then answer or fail; the resolver may
// outlive the test (its threads are detached), so what they share is owned by them too.
struct SteeredResolutions {
  struct Shared {
    std::atomic<int> calls{0};
    std::atomic<int> ended{0};
    std::atomic<bool> go[3]{false, false, false};
  };
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
  // Call i (from 0) answers `answers[i]`, or fails when it is empty.
  Resolver resolver(std::vector<Addresses> answers) const {
    return [s = shared, answers](const std::string&) -> Addresses {
      const int call = s->calls++;
      eventually([&] { return s->go[call].load(); });
      ++s->ended;
      if (answers[call].empty()) throw std::runtime_error("Temporary failure in name resolution");
      return answers[call];
    };
  }
};

TEST(AddressBook, AResolutionThatHangsHoldsTheNameOnlyUntilItIsOverdue) {
  SteeredResolutions dns;
  AddressBook book("order", dns.resolver({{"10.0.0.7"}, {"10.0.0.7"}}), {.overdue_after = 1s});
  dns.shared->go[1] = true;  // the first hangs (a query sent before the resolver knew the name)
  const auto before_first = Clock::now();
  EXPECT_THROW(book.lookup(Clock::now() + 1ms), ResolveError);
  const auto after_first = Clock::now();
  ASSERT_TRUE(eventually([&] { return dns.shared->calls == 1; }));
  if (Clock::now() - before_first < 500ms) {  // a loaded machine may take longer to get here
    EXPECT_THROW(book.lookup(Clock::now() + 1ms), ResolveError) << "not overdue yet: no second resolution";
    EXPECT_EQ(dns.shared->calls, 1);
  }
  std::this_thread::sleep_until(after_first + 1s);
  EXPECT_EQ(book.lookup(Clock::now() + 5s), Addresses{"10.0.0.7"}) << "a new resolution beside the hung one";
  EXPECT_EQ(dns.shared->calls, 2);
  EXPECT_EQ(dns.shared->ended, 1) << "the first still hangs";
  dns.shared->go[0] = true;
  ASSERT_TRUE(eventually([&] { return dns.shared->ended == 2; }));
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

// The process's registry, where every book counts its host's resolutions (from the start of
// the process: the tests read what they add).
std::uint64_t resolutions(const std::string& host, const std::string& result) {
  return metrics::global().counter("sales_name_resolutions_total", "", {{"host", host}, {"result", result}}).value();
}
std::uint64_t overdue(const std::string& host) {
  return metrics::global().counter("sales_name_resolutions_overdue_total", "", {{"host", host}}).value();
}

// Counted too: the second resolution as overdue, the first as outrun (a host of its own, so
// no other test's resolutions count in it).
TEST(AddressBook, AnOverdueAnswerArrivingLastDoesNotReplaceANewerOneAndIsCountedAsOutrun) {
  const auto ok = resolutions("counted-overdue", "ok");
  const auto outrun = resolutions("counted-overdue", "outrun");
  const auto late = overdue("counted-overdue");
  SteeredResolutions dns;
  AddressBook book("counted-overdue", dns.resolver({{"10.0.0.7"}, {"10.0.0.9"}}), {.overdue_after = 0s});
  EXPECT_THROW(book.lookup(Clock::now() + 1ms), ResolveError);
  ASSERT_TRUE(eventually([&] { return dns.shared->calls == 1; }));
  dns.shared->go[1] = true;
  EXPECT_EQ(book.lookup(Clock::now() + 5s), Addresses{"10.0.0.9"});
  EXPECT_EQ(overdue("counted-overdue") - late, 1u);
  dns.shared->go[0] = true;  // the hung query ends, with the address it was asked for
  ASSERT_TRUE(eventually([&] { return dns.shared->ended == 2; }));
  EXPECT_TRUE(eventually([&] { return resolutions("counted-overdue", "outrun") - outrun == 1; }));
  for (int i = 0; i < 50; ++i) {  // the book takes its answer just after the resolver returns
    ASSERT_EQ(book.lookup(Clock::now() + 5s), Addresses{"10.0.0.9"});
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(dns.shared->calls, 2);
  EXPECT_EQ(resolutions("counted-overdue", "ok") - ok, 1u);
}

TEST(AddressBook, AFailureWhileAnotherResolutionRunsLeavesTheCallWaitingForIt) {
  SteeredResolutions dns;
  AddressBook book("order", dns.resolver({{}, {"10.0.0.7"}}), {.overdue_after = 0s});
  EXPECT_THROW(book.lookup(Clock::now() + 1ms), ResolveError);
  std::atomic<bool> woken{false};
  ASSERT_TRUE(book.begin(Clock::now() + 10s, [&] { woken = true; }).has_value());
  ASSERT_TRUE(eventually([&] { return dns.shared->calls == 2; }));
  dns.shared->go[0] = true;  // the first fails
  ASSERT_TRUE(eventually([&] { return dns.shared->ended == 1; }));
  std::this_thread::sleep_for(50ms);  // the book takes the failure just after the resolver throws
  EXPECT_FALSE(woken.load()) << "woken by a failure while the second resolution still ran";
  dns.shared->go[1] = true;
  ASSERT_TRUE(eventually([&] { return woken.load(); }));
  EXPECT_EQ(book.answer(), Addresses{"10.0.0.7"});
}

TEST(AddressBook, AnOutrunAnswerDoesNotEndTheWaitForTheResolutionAfterAFailedConnect) {
  SteeredResolutions dns;
  AddressBook book("order", dns.resolver({{"10.0.0.7"}, {"10.0.0.9"}, {"10.0.0.11"}}), {.overdue_after = 0s});
  EXPECT_THROW(book.lookup(Clock::now() + 1ms), ResolveError);
  ASSERT_TRUE(eventually([&] { return dns.shared->calls == 1; }));
  dns.shared->go[1] = true;
  ASSERT_EQ(book.lookup(Clock::now() + 5s), Addresses{"10.0.0.9"});
  book.connect_failed();  // 10.0.0.9 refused: resolve again before trusting it
  std::atomic<bool> woken{false};
  ASSERT_TRUE(book.begin(Clock::now() + 10s, [&] { woken = true; }).has_value());
  ASSERT_TRUE(eventually([&] { return dns.shared->calls == 3; }));
  dns.shared->go[0] = true;  // the first, long overdue, ends with what it found then
  ASSERT_TRUE(eventually([&] { return dns.shared->ended == 2; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(woken.load()) << "woken by an answer older than the one that failed";
  dns.shared->go[2] = true;
  ASSERT_TRUE(eventually([&] { return woken.load(); }));
  EXPECT_EQ(book.answer(), Addresses{"10.0.0.11"});
}

TEST(AddressBook, ResolutionsAreCountedByHowTheyEnded) {
  const auto ok = resolutions("counted-order", "ok");
  const auto failed = resolutions("counted-order", "failed");
  const auto late = overdue("counted-order");
  FakeResolver dns;
  dns.answer({"10.0.0.7"});
  // The failed resolution is waited for, not fallen back from, so that it is counted by then.
  AddressBook book("counted-order", dns.resolver(), {.fallback_wait = 10s});
  ASSERT_EQ(book.lookup(Clock::now() + 5s), Addresses{"10.0.0.7"});
  dns.fail();
  book.connect_failed();
  ASSERT_EQ(book.lookup(Clock::now() + 5s), Addresses{"10.0.0.7"});
  EXPECT_EQ(resolutions("counted-order", "ok") - ok, 1u);
  EXPECT_EQ(resolutions("counted-order", "failed") - failed, 1u);
  EXPECT_EQ(overdue("counted-order") - late, 0u);
}

TEST(AddressBook, AnIpAddressCountsNoResolution) {
  AddressBook book("10.0.0.99", FakeResolver().resolver());
  ASSERT_EQ(book.lookup(Clock::now() + 5s), Addresses{"10.0.0.99"});
  EXPECT_EQ(metrics::global().render().find("host=\"10.0.0.99\""), std::string::npos);
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
