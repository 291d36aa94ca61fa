// The dynamic batcher: joins concurrent requests into one forward pass, never beyond max_batch, never
// waits for clients that cannot come, and hands each caller its own outputs (and errors).
#include "infer/model_batcher.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "sightflow/stage_times.hpp"

using namespace sf;

namespace {

// Answers each image with one detection whose score is the image's first pixel; records batch sizes.
class EchoModel : public Model {
 public:
  explicit EchoModel(int max_batch, std::shared_ptr<std::vector<size_t>> batches)
      : batches_(std::move(batches)) {
    info_.name = "echo";
    info_.max_batch = max_batch;
  }
  const ModelInfo& info() const override { return info_; }
  std::vector<ModelOutput> infer(std::span<const cv::Mat> images, StageTimes* times) override {
    batches_->push_back(images.size());
    std::vector<ModelOutput> out;
    for (const auto& image : images) {
      if (image.at<uchar>(0, 0) == 255) throw std::runtime_error("poisoned image");
      Detection d;
      d.score = image.at<uchar>(0, 0);
      out.push_back({{d}, {}});
    }
    if (times) times->model += 0.001;
    return out;
  }

 private:
  ModelInfo info_;
  std::shared_ptr<std::vector<size_t>> batches_;
};

cv::Mat pixel(int value) { return cv::Mat(1, 1, CV_8UC1, cv::Scalar(value)); }

std::shared_ptr<ModelBatcher> make_batcher(int model_max, BatchOptions options,
                                           std::shared_ptr<std::vector<size_t>> batches) {
  return std::make_shared<ModelBatcher>(std::make_unique<EchoModel>(model_max, batches), options);
}

}  // namespace

TEST(ModelBatcher, JoinsRequestsOfAllWaitingClientsIntoOneBatch) {
  auto batches = std::make_shared<std::vector<size_t>>();
  auto batcher =
      make_batcher(8, {0, 60'000}, batches);  // a minute of delay: only "all clients waiting" can release
  std::vector<std::shared_ptr<Model>> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(batcher->client());
  std::vector<std::future<float>> answers;
  for (int i = 0; i < 3; ++i) {
    answers.push_back(std::async(std::launch::async, [&, i] {
      cv::Mat image = pixel(10 + i);
      return clients[i]->infer(std::span<const cv::Mat>(&image, 1)).at(0).detections.at(0).score;
    }));
  }
  for (int i = 0; i < 3; ++i) EXPECT_EQ(answers[i].get(), 10 + i);  // each caller gets its own output
  ASSERT_EQ(batches->size(), 1u);
  EXPECT_EQ(batches->at(0), 3u);
  auto stats = batcher->stats();
  EXPECT_EQ(stats.batches, 1);
  EXPECT_EQ(stats.items, 3);
}

TEST(ModelBatcher, NeverExceedsTheModelsBatchLimit) {
  auto batches = std::make_shared<std::vector<size_t>>();
  auto batcher = make_batcher(2, {8, 60'000}, batches);  // asks for 8, the model takes 2
  EXPECT_EQ(batcher->max_batch(), 2);
  std::vector<std::shared_ptr<Model>> clients;
  for (int i = 0; i < 5; ++i) clients.push_back(batcher->client());
  std::vector<std::thread> threads;
  for (int i = 0; i < 5; ++i) {
    threads.emplace_back([&, i] {
      cv::Mat image = pixel(i);
      clients[i]->infer(std::span<const cv::Mat>(&image, 1));
      clients[i].reset();  // a finished stream lets go, so the rest need not wait for it
    });
  }
  for (auto& t : threads) t.join();
  size_t total = 0;
  for (size_t b : *batches) {
    EXPECT_LE(b, 2u);
    total += b;
  }
  EXPECT_EQ(total, 5u);
}

TEST(ModelBatcher, ALoneClientIsServedWithoutWaitingForTheDelay) {
  auto batches = std::make_shared<std::vector<size_t>>();
  auto batcher = make_batcher(4, {0, 60'000}, batches);
  auto client = batcher->client();
  cv::Mat image = pixel(7);
  Stopwatch watch;
  for (int i = 0; i < 3; ++i) client->infer(std::span<const cv::Mat>(&image, 1));
  EXPECT_LT(watch.seconds(), 30.0);  // would take three minutes if it waited for company
  EXPECT_EQ(batches->size(), 3u);
}

TEST(ModelBatcher, DroppingAnIdleClientReleasesTheWaitingBatch) {
  auto batches = std::make_shared<std::vector<size_t>>();
  auto batcher = make_batcher(4, {0, 60'000}, batches);
  auto busy = batcher->client();
  auto idle = batcher->client();
  auto answer = std::async(std::launch::async, [&] {
    cv::Mat image = pixel(3);
    return busy->infer(std::span<const cv::Mat>(&image, 1)).size();
  });
  // Submitted (seen by the batcher, not a sleep), and held: with a minute of delay only `idle` can complete
  // the batch. pending_images() is 0 again once a forward pass takes the image.
  for (int i = 0; i < 3000 && batcher->pending_images() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(batcher->pending_images(), 1u);
  EXPECT_EQ(answer.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  EXPECT_EQ(batcher->pending_images(), 1u);
  idle.reset();  // the idle stream ended
  ASSERT_EQ(answer.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(answer.get(), 1u);
}

TEST(ModelBatcher, ShortDelayReleasesAPartialBatch) {
  auto batches = std::make_shared<std::vector<size_t>>();
  auto batcher = make_batcher(4, {0, 1.0}, batches);
  auto a = batcher->client();
  auto b = batcher->client();  // never submits
  cv::Mat image = pixel(1);
  EXPECT_EQ(a->infer(std::span<const cv::Mat>(&image, 1)).size(), 1u);
  EXPECT_EQ(batches->size(), 1u);
}

TEST(ModelBatcher, AnErrorReachesEveryCallerOfItsBatchAndTheBatcherGoesOn) {
  auto batches = std::make_shared<std::vector<size_t>>();
  auto batcher = make_batcher(4, {0, 60'000}, batches);
  auto a = batcher->client();
  auto b = batcher->client();
  auto fa = std::async(std::launch::async, [&] {
    cv::Mat image = pixel(255);
    return a->infer(std::span<const cv::Mat>(&image, 1)).size();
  });
  auto fb = std::async(std::launch::async, [&] {
    cv::Mat image = pixel(1);
    return b->infer(std::span<const cv::Mat>(&image, 1)).size();
  });
  EXPECT_THROW(fa.get(), std::runtime_error);
  EXPECT_THROW(fb.get(), std::runtime_error);  // same batch as the poisoned image
  b.reset();
  cv::Mat fine = pixel(2);
  EXPECT_EQ(a->infer(std::span<const cv::Mat>(&fine, 1)).size(), 1u);
}

TEST(ModelBatcher, RequestsOfSeveralImagesStayTogetherAndInOrder) {
  auto batches = std::make_shared<std::vector<size_t>>();
  auto batcher = make_batcher(8, {0, 5}, batches);
  auto client = batcher->client();
  std::vector<cv::Mat> images{pixel(5), pixel(6), pixel(7)};
  auto out = client->infer(images);
  ASSERT_EQ(out.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(out[i].detections.at(0).score, 5 + i);
}

namespace {

// Blocks in infer() until `expected` calls are inside at once (or a generous bound passes, for a failing
// run), and records the most that ever were.
class MeetingModel : public Model {
 public:
  struct Room {
    std::mutex mutex;
    std::condition_variable changed;
    int inside = 0, most = 0, expected = 2;
    std::chrono::milliseconds patience{20'000};  // a failing run's bound on the wait
  };
  explicit MeetingModel(std::shared_ptr<Room> room) : room_(std::move(room)) { info_.name = "meeting"; }
  const ModelInfo& info() const override { return info_; }
  std::vector<ModelOutput> infer(std::span<const cv::Mat> images, StageTimes*) override {
    std::unique_lock lock(room_->mutex);
    room_->most = std::max(room_->most, ++room_->inside);
    room_->changed.notify_all();
    room_->changed.wait_for(lock, room_->patience, [&] { return room_->most >= room_->expected; });
    --room_->inside;
    return std::vector<ModelOutput>(images.size());
  }

 private:
  ModelInfo info_;
  std::shared_ptr<Room> room_;
};

int run_two_clients_at_once(ModelBatcher& batcher) {
  auto a = batcher.client(), b = batcher.client();
  auto ask = [](std::shared_ptr<Model> client) {
    return std::async(std::launch::async, [client] {
      cv::Mat image = pixel(1);
      return client->infer(std::span<const cv::Mat>(&image, 1)).size();
    });
  };
  auto fa = ask(a), fb = ask(b);
  return int(fa.get() + fb.get());
}

}  // namespace

TEST(ModelBatcher, InstancesRunForwardPassesAtTheSameTime) {
  auto room = std::make_shared<MeetingModel::Room>();
  // max_batch 1: each request is a pass of its own; two instances run the two passes side by side.
  auto batcher = std::make_shared<ModelBatcher>([room] { return std::make_unique<MeetingModel>(room); }, 2,
                                                BatchOptions{1, 60'000});
  EXPECT_EQ(batcher->instances(), 2);
  EXPECT_EQ(run_two_clients_at_once(*batcher), 2);
  EXPECT_EQ(room->most, 2);
  EXPECT_EQ(batcher->stats().items, 2);
}

TEST(ModelBatcher, OneInstanceRunsOnePassAtATime) {
  auto room = std::make_shared<MeetingModel::Room>();
  room->patience = std::chrono::milliseconds(200);  // never met: each pass waits out its bound alone
  auto batcher = std::make_shared<ModelBatcher>([room] { return std::make_unique<MeetingModel>(room); }, 1,
                                                BatchOptions{1, 60'000});
  EXPECT_EQ(run_two_clients_at_once(*batcher), 2);
  EXPECT_EQ(room->most, 1);
}

TEST(ModelBatcher, ScalingKeepsTheQueueAndZeroInstancesAnswersWhatWaits) {
  auto batches = std::make_shared<std::vector<size_t>>();
  int made = 0;
  auto batcher = std::make_shared<ModelBatcher>(
      [&] {
        ++made;
        return std::make_unique<EchoModel>(4, batches);
      },
      0, BatchOptions{0, 60'000});
  EXPECT_EQ(made, 1);  // read once for info() even without an instance
  EXPECT_EQ(batcher->info().name, "echo");
  auto client = batcher->client();
  auto waiting = std::async(std::launch::async, [&] {
    cv::Mat image = pixel(9);
    return client->infer(std::span<const cv::Mat>(&image, 1)).at(0).detections.at(0).score;
  });
  // Nobody serves yet; once an instance is added, the request that waited is answered.
  while (batcher->pending_images() == 0) std::this_thread::yield();
  batcher->scale(3);
  EXPECT_EQ(batcher->instances(), 3);
  EXPECT_EQ(made, 3);  // the first model is instance 0; two more were made
  EXPECT_EQ(waiting.get(), 9);
  batcher->scale(1);
  EXPECT_EQ(batcher->instances(), 1);
  cv::Mat image = pixel(4);
  EXPECT_EQ(client->infer(std::span<const cv::Mat>(&image, 1)).size(), 1u);
  batcher->scale(0);
  auto stranded = std::async(std::launch::async, [&] {
    cv::Mat image = pixel(5);
    return client->infer(std::span<const cv::Mat>(&image, 1)).size();
  });
  while (batcher->pending_images() == 0) std::this_thread::yield();
  batcher->scale(0);  // at zero, what waits is answered with an error instead of waiting for ever
  EXPECT_THROW(stranded.get(), std::runtime_error);
}

TEST(ModelBatcher, ABatcherOfOneGivenModelCannotAddInstances) {
  auto batches = std::make_shared<std::vector<size_t>>();
  auto batcher = make_batcher(4, {0, 5}, batches);
  EXPECT_EQ(batcher->instances(), 1);
  EXPECT_THROW(batcher->scale(2), std::logic_error);
  EXPECT_EQ(batcher->instances(), 1);
}

TEST(ModelPool, AutomaticInstancesFollowTheClientsUpToTheCores) {
  ModelPool pool;
  const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::shared_ptr<Model>> clients{pool.acquire("hog", {})};
  EXPECT_EQ(pool.stats().at(0).instances, 1);  // one stream: one instance, every core inside its passes
  for (int n = 2; n <= cores + 2; ++n) {
    clients.push_back(pool.acquire("hog", {}));
    EXPECT_EQ(pool.stats().at(0).instances, std::min(n, cores)) << n << " clients";
  }
  ASSERT_EQ(pool.stats().size(), 1u);  // all of them share the one model
}

TEST(ModelPool, TheInstancesParameterFixesTheCount) {
  ModelPool pool;
  auto a = pool.acquire("hog", {{"instances", "3"}});
  auto b = pool.acquire("hog", {{"instances", "3"}});
  EXPECT_EQ(pool.stats().at(0).instances, 3);
  EXPECT_THROW(pool.acquire("hog", {{"instances", "65"}}), std::invalid_argument);
}

namespace {

// Holds every forward pass until opened; counts the images of each pass.
class GateModel : public Model {
 public:
  struct Gate {
    std::mutex mutex;
    std::condition_variable changed;
    bool open = false;
    int inside = 0;
    std::vector<size_t> passes;
  };
  explicit GateModel(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {
    info_.name = "gate";
    info_.max_batch = 8;
  }
  const ModelInfo& info() const override { return info_; }
  std::vector<ModelOutput> infer(std::span<const cv::Mat> images, StageTimes*) override {
    std::unique_lock lock(gate_->mutex);
    ++gate_->inside;
    gate_->changed.notify_all();
    gate_->changed.wait_for(lock, std::chrono::seconds(20), [&] { return gate_->open; });
    --gate_->inside;
    gate_->passes.push_back(images.size());
    return std::vector<ModelOutput>(images.size());
  }

 private:
  ModelInfo info_;
  std::shared_ptr<Gate> gate_;
};

std::future<size_t> ask_async(std::shared_ptr<Model> client) {
  return std::async(std::launch::async, [client] {
    cv::Mat image = pixel(1);
    return client->infer(std::span<const cv::Mat>(&image, 1)).size();
  });
}

template <typename Predicate>
bool eventually(Predicate done) {
  for (int i = 0; i < 2000 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return done();
}

}  // namespace

TEST(ModelBatcher, TurnsGoInTheOrderAskedAndOnlyWhileAPassCanTakeThem) {
  auto gate = std::make_shared<GateModel::Gate>();
  auto batcher = std::make_shared<ModelBatcher>(std::make_unique<GateModel>(gate), BatchOptions{0, 5});
  auto a = batcher->client(), b = batcher->client(), c = batcher->client(), d = batcher->client();
  // a's pass occupies the one instance; b's turn is granted at once (nothing waits with a frame chosen).
  auto a_done = ask_async(a);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(gate->mutex);
    return gate->inside == 1;
  }));
  auto b_turn = b->reserve();
  ASSERT_NE(b_turn, nullptr);
  auto b_done = ask_async(b);
  ASSERT_TRUE(eventually([&] { return batcher->pending_images() == 1; }));
  // b waits for the instance with its frame chosen: c, then d, wait for their turn in that order.
  std::mutex order_mutex;
  std::vector<char> order;
  auto take = [&](std::shared_ptr<Model> client, char name) {
    auto turn = client->reserve();
    std::lock_guard lock(order_mutex);
    order.push_back(name);
    return turn;
  };
  auto c_turn = std::async(std::launch::async, take, c, 'c');
  ASSERT_TRUE(eventually([&] { return batcher->turn_waiters() == 1; }));
  auto d_turn = std::async(std::launch::async, take, d, 'd');
  ASSERT_TRUE(eventually([&] { return batcher->turn_waiters() == 2; }));
  EXPECT_EQ(c_turn.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  {
    std::lock_guard lock(gate->mutex);
    gate->open = true;
  }
  gate->changed.notify_all();
  EXPECT_EQ(a_done.get(), 1u);
  EXPECT_EQ(b_done.get(), 1u);
  // b's pass took it out of the queue: c's turn goes; d's waits while c holds one unused, then goes.
  auto c_held = c_turn.get();
  EXPECT_EQ(d_turn.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  c_held.reset();  // c found nothing to run (a still scene): its turn goes back
  auto d_held = d_turn.get();
  EXPECT_EQ(order, (std::vector<char>{'c', 'd'}));
  EXPECT_EQ(ask_async(d).get(), 1u);
  EXPECT_EQ(batcher->turn_waiters(), 0);
}

TEST(ModelBatcher, RequestsThatTookATurnGoAheadAtATime) {
  // ahead 2: two requests may wait with their frame chosen, and they leave in passes of two, although
  // the model takes eight, so that with several instances each takes its share.
  auto gate = std::make_shared<GateModel::Gate>();
  BatchOptions options{0, 0};  // no waiting for company: a batch is what waits when an instance is free
  options.ahead = 2;
  auto batcher = std::make_shared<ModelBatcher>(std::make_unique<GateModel>(gate), options);
  std::vector<std::shared_ptr<Model>> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(batcher->client());
  auto first = ask_async(clients[0]);  // occupies the instance
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(gate->mutex);
    return gate->inside == 1;
  }));
  auto turn1 = clients[1]->reserve();
  auto turn2 = clients[2]->reserve();
  auto one = ask_async(clients[1]);
  auto two = ask_async(clients[2]);
  ASSERT_TRUE(eventually([&] { return batcher->pending_images() == 2; }));
  auto third_turn = std::async(std::launch::async, [&] { return clients[3]->reserve(); });
  EXPECT_EQ(third_turn.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  {
    std::lock_guard lock(gate->mutex);
    gate->open = true;
  }
  gate->changed.notify_all();
  EXPECT_EQ(first.get() + one.get() + two.get(), 3u);
  auto turn3 = third_turn.get();
  EXPECT_EQ(ask_async(clients[3]).get(), 1u);
  std::lock_guard lock(gate->mutex);
  EXPECT_EQ(gate->passes, (std::vector<size_t>{1, 2, 1}));
}
