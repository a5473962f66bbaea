// What the training programs print while they work (tools/common/progress.h).
#include "helpers.h"

#include "tools/common/progress.h"

using namespace dytgrad;

TEST_CASE("Throughput: the rate over the last steps of the window, not one step's", "[tools][progress]") {
  tools::Throughput rate(3);
  REQUIRE(rate.add(100, 1.0) == Approx(100));          // one step: its own rate
  REQUIRE(rate.add(100, 0.01) == Approx(200 / 1.01));  // a fast step moves it a little, not to 10,000
  REQUIRE(rate.add(100, 1.0) == Approx(300 / 2.01));
  REQUIRE(rate.add(100, 1.0) == Approx(300 / 2.01));   // the first step has left the window
  REQUIRE(rate.add(100, 1.0) == Approx(300 / 3.0));    // and now the fast one
}
