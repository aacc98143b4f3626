#include "medsearch/result.h"

#include <catch2/catch.hpp>
#include <memory>

using medsearch::fail;
using medsearch::Result;
using medsearch::Status;

namespace {
Result<int> half(int n) {
  if (n % 2) return fail("odd number " + std::to_string(n));
  return n / 2;
}
}  // namespace

TEST_CASE("Result carries a value or an error message", "[result]") {
  auto good = half(8);
  REQUIRE(good.ok());
  CHECK(*good == 4);
  auto bad = half(3);
  REQUIRE_FALSE(bad);
  CHECK(bad.error() == "odd number 3");
}

TEST_CASE("Result holds move-only values and Status carries errors", "[result]") {
  Result<std::unique_ptr<int>> owned(std::make_unique<int>(7));
  REQUIRE(owned);
  std::unique_ptr<int> taken = std::move(owned).value();
  CHECK(*taken == 7);
  Status ok;
  CHECK(ok.ok());
  Status broken = fail("disk full");
  CHECK_FALSE(broken.ok());
  CHECK(broken.error() == "disk full");
  CHECK(std::move(broken).take_error().message == "disk full");
}
