// The store as a pipeline sink: the sink thread only queues results; a writer thread archives frames and
// commits batches, so inference never waits for the disk unless the writer falls a whole queue behind.
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>

#include "sightflow/bounded_queue.hpp"
#include "sightflow/frame.hpp"
#include "sightflow/stage_times.hpp"
#include "sightflow/store.hpp"
#include "store/frame_archive.hpp"
#include "store/store_commit_stats.hpp"
#include "store/store_rows.hpp"

namespace sf {
namespace {

class StoreSink : public Sink {
  struct Pending {
    Result result;
    FrameRecord frame;  // filled at write(): the pixels may be released before the writer sees them
  };

 public:
  StoreSink(std::shared_ptr<Store> store, StoreSinkOptions options)
      : store_(std::move(store)),
        options_(std::move(options)),
        // Queued results hold their frames when archiving: a shorter queue bounds that memory.
        queue_(options_.archive_dir.empty() ? options_.queue_capacity
                                            : std::min<size_t>(options_.queue_capacity, 64),
               OverflowPolicy::Block) {
    if (!options_.stream_clock.empty()) store_->set_stream_clock(options_.stream_clock);
    if (!options_.archive_dir.empty()) {
      archive_.emplace(options_.archive_dir, options_.archive);
      // After a crash: files no row names are deleted, rows whose file is gone lose their path.
      for (const auto& missing : archive_->reconcile(store_->archived_frames()))
        store_->clear_archive(missing.stream, missing.seq);
    }
    sweep(unix_now());
    writer_ = std::thread([this] { writer_loop(); });
  }
  ~StoreSink() override {
    queue_.close();
    if (writer_.joinable()) writer_.join();
  }

  void write(const Result& result) override {
    rethrow_writer_error();
    Pending item{result,
                 {result.stream, result.frame, result.pts, frame_time(result), result.image.cols,
                  result.image.rows, "", 0}};
    // Without an archive the pixels are not needed: queued results must not pin decoded frames.
    if (!archive_) item.result.image.release();
    queue_.push(std::move(item));
  }

  void report(CounterReport& out) const override { stats_.report(out); }

  void close() override {
    {
      std::lock_guard lock(closing_mutex_);
      closing_ = true;
    }
    closing_cv_.notify_all();  // the writer commits what is queued now instead of finishing its batch window
    queue_.close();
    if (writer_.joinable()) writer_.join();
    spdlog::info("store {}: {} results stored ({} already there)", store_->describe(), total_, duplicates_);
    rethrow_writer_error();
    sweep(unix_now());  // the limits hold when the run ends, not only at the next start
  }

 private:
  void writer_loop() {
    try {
      std::vector<Pending> batch;
      double last_sweep = unix_now();
      auto delay = std::chrono::duration<double>(options_.batch_delay_s);
      while (true) {
        auto first = queue_.pop_for(std::chrono::milliseconds(500));
        if (!first) {
          if (queue_.closed() && queue_.size() == 0) break;
          continue;
        }
        batch.push_back(std::move(*first));
        // Sleep through the batch window instead of waking for every result: on two cores each wake-up
        // of this thread would preempt inference. Only close() ends the window early.
        {
          std::unique_lock lock(closing_mutex_);
          closing_cv_.wait_for(lock, delay, [&] { return closing_; });
        }
        while (batch.size() < options_.batch_size) {
          auto next = queue_.pop_for(std::chrono::seconds(0));
          if (!next) break;
          batch.push_back(std::move(*next));
        }
        commit(batch);
        batch.clear();
        if (double now = unix_now(); now - last_sweep >= options_.retention_interval_s) {
          sweep(now);
          last_sweep = now;
        }
      }
    } catch (const std::exception& e) {
      std::lock_guard lock(error_mutex_);
      error_ = std::string("store ") + store_->describe() + ": " + e.what();
      queue_.close();  // producers stop waiting; the next write() reports the error
    }
  }

  void commit(std::vector<Pending>& batch) {
    Stopwatch watch;
    std::vector<Result> results;
    std::vector<FrameRecord> frames;
    for (auto& item : batch) {
      // Files are written before their rows commit: a crash in between leaves files without rows, which
      // the next start deletes; never a row pointing to nothing.
      if (archive_) {
        if (auto kept = archive_->maybe_keep(item.result)) item.frame = std::move(*kept);
        item.result.image.release();
      }
      results.push_back(std::move(item.result));
      frames.push_back(std::move(item.frame));
    }
    size_t added = store_->write(results, frames);
    total_ += added;
    duplicates_ += results.size() - added;
    double seconds = watch.seconds();
    spdlog::debug("store: committed {} results ({} stored in total)", added, total_);
    stats_.add(added, seconds);
    if (options_.on_commit) options_.on_commit(added, total_, seconds);
  }

  // Retention: old raw rows and roll-up buckets, then archived frames beyond the age and size limits.
  void sweep(double now) {
    store_->apply_retention(options_.retention, now);
    if (!archive_) return;
    for (const auto& frame : archive_->over_limits(store_->archived_frames(), now)) {
      store_->clear_archive(frame.stream, frame.seq);
      archive_->remove(frame.archive_path);
    }
  }

  void rethrow_writer_error() {
    std::lock_guard lock(error_mutex_);
    if (!error_.empty()) throw StoreError(error_);
  }

  std::shared_ptr<Store> store_;
  StoreSinkOptions options_;
  std::optional<FrameArchive> archive_;
  BoundedQueue<Pending> queue_;
  std::thread writer_;
  size_t total_ = 0, duplicates_ = 0;
  StoreCommitStats stats_;
  std::mutex error_mutex_;
  std::string error_;
  std::mutex closing_mutex_;
  std::condition_variable closing_cv_;
  bool closing_ = false;
};

}  // namespace

std::shared_ptr<Sink> make_store_sink(std::shared_ptr<Store> store, StoreSinkOptions options) {
  return std::make_shared<StoreSink>(std::move(store), std::move(options));
}

}  // namespace sf
