// The invariant checker on its own, strict, over everything in the databases: every
// violation counts, including damage left by earlier runs or by a bug another test exposed.
// Runs last in the suite; alone: `./sales test -R saga.Invariants` (after any crash or
// restart, or to audit a running system). SAGA_INVARIANTS_ALL=1 lists every violation.
#include <gtest/gtest.h>

#include "support/fixture.hpp"

namespace saga {
namespace {

TEST(Invariants, HoldOverAllData) { EXPECT_TRUE(invariants_hold(settle_time())); }

}  // namespace
}  // namespace saga
