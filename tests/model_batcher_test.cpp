// The dynamic batcher: joins concurrent requests into one forward pass, never beyond max_batch, never
// waits for clients that cannot come, and hands each caller its own outputs (and errors).
#include "infer/model_batcher.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
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
