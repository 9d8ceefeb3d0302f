// The memo behind the verified-signature set and the jail-hash map: what it keeps, and that it
// never holds more than its capacity.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "base/bounded_memo.h"

namespace clawjail {
namespace {

TEST(BoundedMemo, FindsWhatWasRememberedAndNothingElse) {
  BoundedMemo<std::string> memo(8);
  EXPECT_FALSE(memo.find("a"));
  memo.remember("a", "1");
  ASSERT_TRUE(memo.find("a"));
  EXPECT_EQ(*memo.find("a"), "1");
  EXPECT_FALSE(memo.find("b"));
  memo.remember("a", "2");  // a newer result replaces the older one
  EXPECT_EQ(*memo.find("a"), "2");
}

TEST(BoundedMemo, AtCapacityItForgetsEverythingBeforeRememberingMore) {
  BoundedMemo<int> memo(3);
  for (int i = 0; i < 3; ++i) memo.remember("k" + std::to_string(i), i);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(memo.find("k" + std::to_string(i)).value_or(-1), i);
  memo.remember("k3", 3);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(memo.find("k" + std::to_string(i))) << i;
  EXPECT_EQ(memo.find("k3").value_or(-1), 3);
}

TEST(BoundedMemo, ConcurrentCallersSeeOnlyValuesThatWereRemembered) {
  BoundedMemo<int> memo(16);
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) {
        std::string key = std::to_string((i * 7 + t) % 40);
        if (auto v = memo.find(key); v && std::to_string(*v) != key) ++wrong;
        memo.remember(key, std::stoi(key));
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace clawjail
