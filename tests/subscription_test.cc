#include "frontend/subscription.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace podium {
namespace {

EncodedChangePtr Score(const std::string& event, int64_t seq) {
  v1::Change change;
  change.set_seq(seq);
  change.mutable_event()->set_event(event);
  change.mutable_event()->set_version(seq);
  return EncodeChange(change);
}

// Records writes; the test decides when each write completes, as a slow
// or fast network would.
struct Sink {
  std::vector<v1::SubscribeUpdate> written;  // every update, in order
  std::vector<size_t> messages;              // updates per write
  Subscription::StartWrite writer() {
    return [this](absl::Span<const OutgoingUpdate> updates) {
      // Decodes the message a stream would send: headers, shared bytes and
      // flags, as frontend/subscribe_streams.cc lays them out.
      std::string wire;
      for (const OutgoingUpdate& u : updates) wire += u.Header() + u.change->bytes + u.Flags();
      v1::SubscribeUpdates message;
      ASSERT_TRUE(message.ParseFromString(wire));
      ASSERT_EQ(message.updates_size(), static_cast<int>(updates.size()));
      for (const auto& update : message.updates()) written.push_back(update);
      messages.push_back(updates.size());
    };
  }
};

std::vector<int64_t> Seqs(const Sink& sink) {
  std::vector<int64_t> seqs;
  for (const auto& u : sink.written) seqs.push_back(u.change().seq());
  return seqs;
}

TEST(SubscriptionTest, FastReaderGetsEveryChangeInOrder) {
  Sink sink;
  Subscription sub({"event:a", "event:b"}, "c", sink.writer());
  for (int seq = 1; seq <= 6; ++seq) {
    sub.Publish(Score(seq % 2 ? "a" : "b", seq));
    sub.WriteDone();  // the client keeps up
  }
  EXPECT_EQ(Seqs(sink), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(sub.conflated(), 0);
}

TEST(SubscriptionTest, SlowReaderQueueIsBoundedAndEndsOnTheLatest) {
  Sink sink;
  Subscription sub({"event:a", "event:b"}, "c", sink.writer(), /*max_queued=*/4);
  sub.Publish(Score("a", 1));  // in flight, never completed for a while
  for (int seq = 2; seq <= 10000; ++seq) sub.Publish(Score(seq % 2 ? "a" : "b", seq));
  EXPECT_LE(sub.queued(), 4u + 2u) << "max_queued plus one per key at most";
  EXPECT_GT(sub.conflated(), 9000);
  for (int i = 0; i < 10; ++i) sub.WriteDone();
  ASSERT_GE(sink.written.size(), 3u);
  // Nothing goes back, and the last two sent are the latest of each key,
  // flagged as conflated.
  const std::vector<int64_t> seqs = Seqs(sink);
  EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()));
  EXPECT_EQ(seqs[seqs.size() - 2], 9999);
  EXPECT_EQ(seqs.back(), 10000);
  EXPECT_TRUE(sink.written.back().conflated());
}

TEST(SubscriptionTest, BurstWithinTheBoundIsDeliveredWhole) {
  Sink sink;
  Subscription sub({"event:a"}, "c", sink.writer(), /*max_queued=*/64);
  for (int seq = 1; seq <= 50; ++seq) sub.Publish(Score("a", seq));  // one in flight
  for (int i = 0; i < 60; ++i) sub.WriteDone();
  ASSERT_EQ(sink.written.size(), 50u) << "a reader that keeps up loses nothing";
  EXPECT_EQ(sub.conflated(), 0);
  for (const auto& update : sink.written) EXPECT_FALSE(update.conflated());
}

TEST(SubscriptionTest, WhatWaitedLeavesInBatchesInOrder) {
  Sink sink;
  Subscription sub({"event:a", "event:b"}, "c", sink.writer());
  sub.Publish(Score("a", 1));  // straight out, alone
  for (int seq = 2; seq <= 100; ++seq) sub.Publish(Score(seq % 2 ? "a" : "b", seq));
  EXPECT_EQ(sink.messages, (std::vector<size_t>{1}));
  sub.WriteDone();  // the 99 that waited: a full batch, then the rest
  sub.WriteDone();
  sub.WriteDone();  // nothing left: no empty write
  EXPECT_EQ(sink.messages, (std::vector<size_t>{1, Subscription::kMaxBatch,
                                                99 - Subscription::kMaxBatch}));
  std::vector<int64_t> expected(100);
  for (int i = 0; i < 100; ++i) expected[i] = i + 1;
  EXPECT_EQ(Seqs(sink), expected);
  EXPECT_EQ(sub.conflated(), 0);
}

TEST(SubscriptionTest, BatchesCarryEachUpdatesFlags) {
  Sink sink;
  Subscription sub({"event:a", "event:b"}, "c", sink.writer(), /*max_queued=*/2);
  sub.BeginCatchUp();
  sub.CatchUp(Score("a", 1), /*snapshot=*/true);  // in flight
  sub.CatchUp(Score("b", 2), /*snapshot=*/true);
  sub.EndCatchUp();
  sub.Publish(Score("a", 3));
  sub.Publish(Score("a", 4));  // the queue is full: replaces 3
  sub.WriteDone();
  ASSERT_EQ(sink.messages, (std::vector<size_t>{1, 2}));
  ASSERT_EQ(Seqs(sink), (std::vector<int64_t>{1, 2, 4}));
  EXPECT_TRUE(sink.written[1].snapshot());
  EXPECT_FALSE(sink.written[1].conflated());
  EXPECT_FALSE(sink.written[2].snapshot());
  EXPECT_TRUE(sink.written[2].conflated());
}

TEST(SubscriptionTest, VersionsOfAKeyNeverGoBack) {
  Sink sink;
  Subscription sub({"event:a"}, "c", sink.writer());
  sub.Publish(Score("a", 5));
  sub.WriteDone();
  sub.Publish(Score("a", 3));
  sub.Publish(Score("a", 5));
  sub.WriteDone();
  EXPECT_EQ(Seqs(sink), (std::vector<int64_t>{5}));
}

TEST(SubscriptionTest, LiveChangesWaitForTheCatchUpAndAreNotDuplicated) {
  Sink sink;
  Subscription sub({"event:a", "event:b"}, "c", sink.writer());
  sub.BeginCatchUp();
  sub.Publish(Score("a", 12));  // live, arrives while replay runs
  sub.Publish(Score("b", 13));
  sub.CatchUp(Score("a", 10), false);
  sub.WriteDone();
  sub.CatchUp(Score("b", 11), false);
  sub.WriteDone();
  sub.CatchUp(Score("a", 12), false);  // the replay reached the live ones
  sub.WriteDone();
  sub.EndCatchUp();
  sub.WriteDone();
  sub.WriteDone();
  EXPECT_EQ(Seqs(sink), (std::vector<int64_t>{10, 11, 12, 13}));
  EXPECT_EQ(sub.high_seq(), 13);
}

TEST(SubscriptionTest, SnapshotMarksValuesAndClosedStopsWrites) {
  Sink sink;
  Subscription sub({"event:a"}, "c", sink.writer());
  sub.BeginCatchUp();
  sub.CatchUp(Score("a", 0), true);  // never written: value at version 0
  sub.EndCatchUp();
  ASSERT_EQ(sink.written.size(), 1u);
  EXPECT_TRUE(sink.written[0].snapshot());
  sub.Close();
  sub.WriteDone();
  sub.Publish(Score("a", 4));
  EXPECT_EQ(sink.written.size(), 1u);
}

}  // namespace
}  // namespace podium
