#include "sightflow/bounded_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

using namespace sf;

TEST(BoundedQueue, DropOldestEvictsTheOldestItem) {
  BoundedQueue<int> q(2, OverflowPolicy::DropOldest);
  std::optional<int> evicted;
  EXPECT_TRUE(q.push(1));
  EXPECT_TRUE(q.push(2));
  EXPECT_TRUE(q.push(3, &evicted));
  ASSERT_TRUE(evicted.has_value());
  EXPECT_EQ(*evicted, 1);
  EXPECT_EQ(q.dropped(), 1);
  EXPECT_EQ(*q.pop(), 2);
  EXPECT_EQ(*q.pop(), 3);
}

TEST(BoundedQueue, DropNewestRejectsThePushedItem) {
  BoundedQueue<int> q(2, OverflowPolicy::DropNewest);
  EXPECT_TRUE(q.push(1));
  EXPECT_TRUE(q.push(2));
  EXPECT_FALSE(q.push(3));
  EXPECT_EQ(q.dropped(), 1);
  EXPECT_EQ(*q.pop(), 1);
  EXPECT_EQ(*q.pop(), 2);
  EXPECT_EQ(q.size(), 0u);
}

TEST(BoundedQueue, BlockWaitsForRoomAndLosesNothing) {
  BoundedQueue<int> q(1, OverflowPolicy::Block);
  std::atomic<int> pushed{0};
  std::thread producer([&] {
    for (int i = 0; i < 100; ++i) {
      q.push(i);
      ++pushed;
    }
    q.close();
  });
  // The producer can only be one item ahead of the consumer: checked at every pop rather than once after
  // a sleep, so it holds however the threads are scheduled (pushes that returned <= popped + capacity).
  int expected = 0;
  while (auto item = q.pop()) {
    EXPECT_EQ(*item, expected++);
    EXPECT_LE(pushed.load(), expected + 1);
  }
  producer.join();
  EXPECT_EQ(expected, 100);
  EXPECT_EQ(q.dropped(), 0);
}

TEST(BoundedQueue, CloseWakesBlockedProducerAndConsumer) {
  BoundedQueue<int> full(1, OverflowPolicy::Block);
  full.push(1);
  std::thread producer([&] { EXPECT_FALSE(full.push(2)); });
  BoundedQueue<int> empty(1, OverflowPolicy::Block);
  std::thread consumer([&] { EXPECT_FALSE(empty.pop().has_value()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  full.close();
  empty.close();
  producer.join();
  consumer.join();
  EXPECT_EQ(*full.pop(), 1);  // what was queued before close is still delivered
  EXPECT_FALSE(full.pop().has_value());
}

TEST(BoundedQueue, PopForTimesOut) {
  BoundedQueue<int> q(1, OverflowPolicy::Block);
  EXPECT_FALSE(q.pop_for(std::chrono::milliseconds(10)).has_value());
  EXPECT_FALSE(q.closed());
}

TEST(BoundedQueue, PolicyNamesRoundTrip) {
  for (auto p : {OverflowPolicy::Block, OverflowPolicy::DropOldest, OverflowPolicy::DropNewest})
    EXPECT_EQ(parse_overflow_policy(to_string(p)), p);
  EXPECT_THROW(parse_overflow_policy("leaky"), std::invalid_argument);
  EXPECT_THROW(BoundedQueue<int>(0, OverflowPolicy::Block), std::invalid_argument);
}
