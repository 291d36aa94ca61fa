// The results store, run against every backend: idempotent writes, roll-ups equal to a recomputation
// from the raw rows, retention, archived-frame bookkeeping, migrations.
#include "sightflow/store.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <map>
#include <thread>
#include <tuple>

#include "sightflow/evaluation.hpp"
#include "store/postgres_store.hpp"
#include "store/schema.hpp"
#include "store/sqlite_db.hpp"
#include "store_backends.hpp"
#include "test_support.hpp"

namespace sf {
namespace {

constexpr double kStart = 1790000000.5;  // a unix time; results are captured 10 per second from here

// vtest.avi's 795 frames as results, with the PETS ground-truth people as detections (and a "bag" on
// every 7th frame, so there is a second label that is absent from most results).
std::vector<Result> vtest_results() {
  auto truth = load_mot_ground_truth(test::shared_dir() + "/eval/pets09-s2l1/gt.txt");
  std::vector<Result> out;
  for (int64_t frame = 0; frame < 795; ++frame) {
    Result r;
    r.stream = "vtest";
    r.algo = "people";
    r.frame = frame;
    r.pts = double(frame) / 10;
    r.capture_ts = kStart + double(frame) / 10;
    r.ts = r.capture_ts + 0.05;
    for (const auto& g : truth[frame]) {
      if (!g.ignore) r.detections.push_back({"person", 0, 0.9f, g.box, {}});
    }
    if (frame % 7 == 0) r.detections.push_back({"bag", 1, 0.5f, {10, 20, 30, 40}, {}});
    out.push_back(std::move(r));
  }
  return out;
}

// The roll-up levels as docs/STORE.md names them, and a bucket's start worked out in whole tenths of a
// second, so that no expected value comes from the store's own bucket_start(): vtest_results()' frame f
// is captured at kStart + f / 10, i.e. 17900000005 + f tenths, and its media time is f tenths.
const std::pair<const char*, int64_t> kLevels[] = {{"1s", 1}, {"1m", 60}, {"1h", 3600}};
int64_t wall_tenths(int64_t frame) { return 17900000005 + frame; }
double bucket_of(int64_t tenths, int64_t level_seconds) {
  return double(tenths / (level_seconds * 10) * level_seconds);
}

int64_t scalar(Store& store, const std::string& sql) {
  auto rows = store.query(sql);
  EXPECT_EQ(rows.rows.size(), 1u) << sql;
  return rows.rows.at(0).at(0).get<int64_t>();
}

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    backend_ = test::make_store_backend(GetParam(), dir_.path());
    if (!backend_) GTEST_FAIL() << GetParam() << " backend could not be started";
    store_ = open_store(backend_->url());
  }
  test::TempDir dir_;
  std::unique_ptr<test::StoreBackend> backend_;
  std::unique_ptr<Store> store_;
};

// Every table a write touches, whole and in a fixed order: what a redelivery must leave as it was.
std::map<std::string, QueryRows> written_tables(Store& store) {
  std::map<std::string, QueryRows> tables;
  for (const char* sql : {"SELECT * FROM results ORDER BY stream, algo, frame",
                          "SELECT * FROM detections ORDER BY stream, algo, frame, label, x, y",
                          "SELECT * FROM rollups ORDER BY stream, algo, label, clock, level, bucket",
                          "SELECT * FROM frames ORDER BY stream, seq", "SELECT * FROM streams ORDER BY name"})
    tables[sql] = store.query(sql);
  return tables;
}

TEST_P(StoreTest, EveryResultOfVtestLandsOnceAndRewritingChangesNothing) {
  auto results = vtest_results();
  size_t detections = 0;
  for (const auto& r : results) detections += r.detections.size();
  // The frames the results refer to; every 100th was archived.
  auto frames_of = [](const std::vector<Result>& batch, bool archived) {
    std::vector<FrameRecord> frames;
    for (const auto& r : batch) {
      FrameRecord f{r.stream, r.frame, r.pts, r.capture_ts, 768, 576, "", 0};
      if (archived && r.frame % 100 == 0) {
        f.archive_path = "vtest/" + std::to_string(r.frame) + ".jpg";
        f.archive_bytes = 1000 + r.frame;
      }
      frames.push_back(f);
    }
    return frames;
  };
  // In batches, as the sink writes them.
  size_t added = 0;
  for (size_t i = 0; i < results.size(); i += 100) {
    std::vector<Result> batch(results.begin() + long(i),
                              results.begin() + long(std::min(i + 100, results.size())));
    added += store_->write(batch, frames_of(batch, true));
  }
  EXPECT_EQ(added, 795u);
  EXPECT_EQ(scalar(*store_, "SELECT count(*) FROM results"), 795);
  EXPECT_EQ(scalar(*store_, "SELECT count(DISTINCT frame) FROM results"), 795);
  EXPECT_EQ(scalar(*store_, "SELECT min(frame) FROM results"), 0);
  EXPECT_EQ(scalar(*store_, "SELECT max(frame) FROM results"), 794);
  EXPECT_EQ(scalar(*store_, "SELECT count(*) FROM detections"), int64_t(detections));
  EXPECT_EQ(scalar(*store_, "SELECT count(*) FROM frames"), 795);
  EXPECT_EQ(scalar(*store_, "SELECT count(*) FROM frames WHERE archive_path IS NOT NULL"), 8);
  const auto before = written_tables(*store_);
  ASSERT_EQ(before.size(), 5u);

  // Everything again (a redelivery, its frames without archive paths): not one row or roll-up changes, and
  // the archive paths already stored are kept.
  EXPECT_EQ(store_->write(results, frames_of(results, false)), 0u);
  const auto after = written_tables(*store_);
  for (const auto& [sql, rows] : before) {
    EXPECT_EQ(after.at(sql).columns, rows.columns) << sql;
    ASSERT_EQ(after.at(sql).rows.size(), rows.rows.size()) << sql;
    EXPECT_TRUE(after.at(sql).rows == rows.rows) << sql;
  }
  // A batch that mixes old and new.
  Result extra = results.back();
  extra.frame = 795;
  EXPECT_EQ(store_->write({results[3], extra, results[500]}), 1u);
  EXPECT_EQ(scalar(*store_, "SELECT count(*) FROM results"), 796);
  EXPECT_EQ(scalar(*store_, "SELECT count(*) FROM detections"),
            int64_t(detections + extra.detections.size()));
  EXPECT_EQ(scalar(*store_, "SELECT count(*) FROM results WHERE frame = 3"), 1);
  auto person_count = scalar(*store_, "SELECT count FROM results WHERE frame = 100");
  EXPECT_EQ(person_count, int64_t(results[100].detections.size()));
  // The JSON column is the JSON Lines object.
  auto json = nlohmann::json::parse(
      store_->query("SELECT json FROM results WHERE frame = 100").rows[0][0].get<std::string>());
  EXPECT_EQ(json["frame"], 100);
  EXPECT_EQ(json["detections"].size(), results[100].detections.size());
}

// Roll-ups are maintained incrementally; here they are recomputed from the raw rows with plain SQL and
// from the input, and all three must agree, for every level, label and bucket.
TEST_P(StoreTest, RollupsEqualARecomputationFromRawRows) {
  auto results = vtest_results();
  for (size_t i = 0; i < results.size(); i += 64) {
    std::vector<Result> batch(results.begin() + long(i),
                              results.begin() + long(std::min(i + 64, results.size())));
    store_->write(batch);
  }
  store_->write(results);  // a redelivery must not count twice

  using Key = std::tuple<std::string, std::string, std::string, double>;  // clock, level, label, bucket
  struct Stats {
    int64_t samples = 0, sum = 0, min = 0, max = 0;
  };
  std::map<Key, Stats> expected;
  for (const std::string clock : {"wall", "media"})
    for (const auto& [level_name, level_seconds] : kLevels) {
      // Buckets with all their results, so that labels absent from a result count 0 there.
      std::map<double, std::vector<const Result*>> buckets;
      for (const auto& r : results) {
        const int64_t tenths = clock == "wall" ? wall_tenths(r.frame) : r.frame;
        buckets[bucket_of(tenths, level_seconds)].push_back(&r);
      }
      for (const auto& [bucket, members] : buckets) {
        std::map<std::string, std::vector<int64_t>> values;
        for (const auto* r : members) {
          std::map<std::string, int64_t> counts{{"*", int64_t(r->detections.size())}};
          for (const auto& d : r->detections) ++counts[d.label];
          for (const auto* label : {"*", "person", "bag"}) values[label].push_back(counts[label]);
        }
        for (const auto& [label, v] : values) {
          if (*std::max_element(v.begin(), v.end()) == 0 && label != "*") continue;  // never seen there
          Stats s{int64_t(v.size()), 0, *std::min_element(v.begin(), v.end()),
                  *std::max_element(v.begin(), v.end())};
          for (auto x : v) s.sum += x;
          expected[{clock, level_name, label, bucket}] = s;
        }
      }
    }

  auto rows = store_->query(
      "SELECT clock, level, label, bucket, samples, sum, min, max FROM counts WHERE stream = 'vtest' AND"
      " algo = 'people'");
  std::map<Key, Stats> stored;
  for (const auto& row : rows.rows) {
    stored[{row[0].get<std::string>(), row[1].get<std::string>(), row[2].get<std::string>(),
            row[3].get<double>()}] = {row[4].get<int64_t>(), row[5].get<int64_t>(), row[6].get<int64_t>(),
                                      row[7].get<int64_t>()};
  }
  ASSERT_EQ(stored.size(), expected.size());
  for (const auto& [key, e] : expected) {
    const auto& [clock, level, label, bucket] = key;
    auto it = stored.find(key);
    ASSERT_NE(it, stored.end()) << clock << " " << level << " " << label << " " << bucket;
    EXPECT_EQ(it->second.samples, e.samples) << clock << " " << level << " " << label;
    EXPECT_EQ(it->second.sum, e.sum) << clock << " " << level << " " << label;
    EXPECT_EQ(it->second.min, e.min) << clock << " " << level << " " << label;
    EXPECT_EQ(it->second.max, e.max) << clock << " " << level << " " << label;
  }

  // The same numbers from the raw rows in SQL: per-minute person counts (results without a person count 0).
  auto raw = store_->query(
      "SELECT floor(r.ts / 60) * 60 AS bucket, count(*), sum(coalesce(p.n, 0)), min(coalesce(p.n, 0)),"
      " max(coalesce(p.n, 0)) FROM results r LEFT JOIN (SELECT stream, algo, frame, count(*) AS n FROM "
      "detections"
      " WHERE label = 'person' GROUP BY stream, algo, frame) p ON p.stream = r.stream AND p.algo = r.algo AND"
      " p.frame = r.frame GROUP BY 1 ORDER BY 1");
  // 79.5 s from 1790000000.5 (:20.5 past a minute) span the minutes from 1789999980 and 1790000040.
  ASSERT_EQ(raw.rows.size(), 2u);
  EXPECT_EQ(raw.rows[0][0].get<double>(), 1789999980.0);
  EXPECT_EQ(raw.rows[1][0].get<double>(), 1790000040.0);
  EXPECT_EQ(raw.rows[0][1].get<int64_t>() + raw.rows[1][1].get<int64_t>(), 795);
  EXPECT_EQ(raw.rows[0][1].get<int64_t>(), 395);  // frames 0..394 are captured before 1790000040
  for (const auto& row : raw.rows) {
    auto it = stored.find({"wall", "1m", "person", row[0].get<double>()});
    ASSERT_NE(it, stored.end());
    EXPECT_EQ(it->second.samples, row[1].get<int64_t>());
    EXPECT_EQ(it->second.sum, row[2].get<int64_t>());
    EXPECT_EQ(it->second.min, row[3].get<int64_t>());
    EXPECT_EQ(it->second.max, row[4].get<int64_t>());
  }
}

TEST_P(StoreTest, RetentionDropsOldRawRowsAndBucketsPerLevel) {
  auto results = vtest_results();
  store_->write(results);
  RetentionPolicy policy;
  double now = kStart + 100;
  policy.raw_seconds = 50;         // keeps results captured in the last 50 s: frames 500..794
  policy.rollup_seconds[0] = 30;   // 1 s buckets from kStart + 70 on
  policy.rollup_seconds[1] = 0;    // 1 min buckets forever
  policy.rollup_seconds[2] = 1e9;  // 1 h buckets (all young)
  store_->apply_retention(policy, now);
  EXPECT_EQ(scalar(*store_, "SELECT min(frame) FROM results"), 500);
  EXPECT_EQ(scalar(*store_, "SELECT count(*) FROM results"), 295);
  EXPECT_EQ(scalar(*store_, "SELECT count(*) FROM detections WHERE frame < 500"), 0);
  EXPECT_GT(scalar(*store_, "SELECT count(*) FROM detections"), 0);
  EXPECT_EQ(
      scalar(*store_, "SELECT count(*) FROM rollups WHERE clock = 'wall' AND level = '1s' AND bucket < " +
                          std::to_string(int64_t(now - 30))),
      0);
  for (const char* clock : {"wall", "media"}) {
    std::string where = std::string(" AND label = '*' AND clock = '") + clock + "'";
    EXPECT_EQ(scalar(*store_, "SELECT sum(samples) FROM rollups WHERE level = '1m'" + where), 795) << clock;
    EXPECT_EQ(scalar(*store_, "SELECT sum(samples) FROM rollups WHERE level = '1h'" + where), 795) << clock;
  }
  // Media buckets count back from the newest media time (pts 79.4), not from today: 1 s buckets from 49 on.
  EXPECT_EQ(scalar(*store_, "SELECT min(bucket) FROM rollups WHERE clock = 'media' AND level = '1s'"), 49);
  EXPECT_EQ(scalar(*store_, "SELECT max(bucket) FROM rollups WHERE clock = 'media' AND level = '1s'"), 79);
}

TEST_P(StoreTest, FramesKeepTheirArchivePathAcrossLaterWrites) {
  auto results = vtest_results();
  std::vector<FrameRecord> frames;
  for (int64_t f = 0; f < 10; ++f) {
    frames.push_back({"vtest", f, f / 10.0, kStart + double(f) / 10, 768, 576,
                      f % 2 ? "vtest/2026-09-21/x-" + std::to_string(f) + ".jpg" : "", f % 2 ? 1000 + f : 0});
  }
  store_->write({results.begin(), results.begin() + 10}, frames);
  // A second algorithm's result for the same frames names no archive file: the first path stays.
  for (auto& f : frames) f.archive_path.clear();
  store_->write({}, frames);
  auto archived = store_->archived_frames();
  ASSERT_EQ(archived.size(), 5u);
  EXPECT_EQ(archived[0].seq, 1);
  EXPECT_EQ(archived[0].archive_path, "vtest/2026-09-21/x-1.jpg");
  EXPECT_EQ(archived[0].archive_bytes, 1001);
  EXPECT_EQ(archived[0].width, 768);
  EXPECT_EQ(archived.back().seq, 9);
  store_->clear_archive("vtest", 1);
  EXPECT_EQ(store_->archived_frames("vtest").size(), 4u);
  EXPECT_EQ(store_->archived_frames("other").size(), 0u);
  EXPECT_EQ(scalar(*store_, "SELECT count(*) FROM frames"), 10);
}

TEST_P(StoreTest, ReopeningKeepsDataAndSchemaVersion) {
  store_->write(vtest_results());
  store_.reset();
  store_ = open_store(backend_->url());
  EXPECT_EQ(scalar(*store_, "SELECT count(*) FROM results"), 795);
  EXPECT_EQ(store_->write(vtest_results()), 0u);
}

// vtest_results() with what the counting stages add: line "door" crossed in on every 13th frame and out on
// every 29th, zone "lawn" holding frame % 5 tracks, and an enter event on every 10th frame.
std::vector<Result> counted_results() {
  auto results = vtest_results();
  for (auto& r : results) {
    r.analytics["lines"] = {{"door", {{"in", r.frame / 13}, {"out", r.frame / 29}}}};
    r.analytics["zones"] = {{"lawn", {{"count", r.frame % 5}}}};
    if (r.frame % 13 == 0) r.events.push_back({"line", "door", r.frame, "person", "in", std::nullopt});
    if (r.frame % 29 == 0) r.events.push_back({"line", "door", r.frame + 1, "person", "out", std::nullopt});
    if (r.frame % 10 == 0) r.events.push_back({"enter", "lawn", r.frame, "person", "", std::nullopt});
    if (r.frame % 10 == 5) r.events.push_back({"exit", "lawn", r.frame - 5, "person", "", 0.5});
  }
  return results;
}

TEST_P(StoreTest, LineAndZoneRollupsEqualARecomputationAndRewritingChangesNothing) {
  auto results = counted_results();
  for (size_t i = 0; i < results.size(); i += 64)
    store_->write({results.begin() + long(i), results.begin() + long(std::min(i + 64, results.size()))});
  EXPECT_EQ(store_->write(results), 0u);  // a redelivery adds nothing to any roll-up

  for (const auto& [level_name, level_seconds] : kLevels) {
    const std::string level = level_name;
    struct Expected {
      int64_t samples = 0, in = 0, out = 0, sum = 0, min = 1 << 30, max = -1;
    };
    std::map<double, Expected> expected;
    for (const auto& r : results) {
      auto& e = expected[bucket_of(wall_tenths(r.frame), level_seconds)];
      ++e.samples;
      e.in += r.frame % 13 == 0;
      e.out += r.frame % 29 == 0;
      e.sum += r.frame % 5;
      e.min = std::min<int64_t>(e.min, r.frame % 5);
      e.max = std::max<int64_t>(e.max, r.frame % 5);
    }
    SeriesQuery q{"vtest", "people", level, kStart - 3600, kStart + 3600, ""};
    auto lines = store_->line_series(q);
    auto zones = store_->zone_series(q);
    ASSERT_EQ(lines.size(), expected.size()) << level;
    ASSERT_EQ(zones.size(), expected.size()) << level;
    size_t i = 0;
    for (const auto& [bucket, e] : expected) {
      EXPECT_EQ(lines[i].line, "door");
      EXPECT_EQ(lines[i].t, bucket) << level;
      EXPECT_EQ(lines[i].samples, e.samples) << level << " " << bucket;
      EXPECT_EQ(lines[i].in, e.in) << level << " " << bucket;
      EXPECT_EQ(lines[i].out, e.out) << level << " " << bucket;
      EXPECT_EQ(zones[i].zone, "lawn");
      EXPECT_EQ(zones[i].samples, e.samples);
      EXPECT_DOUBLE_EQ(zones[i].avg, double(e.sum) / double(e.samples)) << level << " " << bucket;
      EXPECT_EQ(zones[i].min, e.min);
      EXPECT_EQ(zones[i].max, e.max);
      ++i;
    }
  }
  // Totals over the whole run agree with the events table.
  SeriesQuery minutes{"vtest", "people", "1m", kStart - 3600, kStart + 3600, "door"};
  int64_t in = 0, out = 0;
  for (const auto& b : store_->line_series(minutes)) {
    in += b.in;
    out += b.out;
  }
  EXPECT_EQ(in, scalar(*store_, "SELECT count(*) FROM events WHERE type = 'line' AND direction = 'in'"));
  EXPECT_EQ(out, scalar(*store_, "SELECT count(*) FROM events WHERE type = 'line' AND direction = 'out'"));
  minutes.name = "window";
  EXPECT_TRUE(store_->line_series(minutes).empty());

  // Retention drops their buckets with the detection counts' buckets.
  RetentionPolicy policy;
  policy.rollup_seconds[0] = 30;  // 1 s buckets younger than 30 s at kStart + 100
  store_->apply_retention(policy, kStart + 100);
  auto seconds = store_->line_series({"vtest", "people", "1s", kStart - 3600, kStart + 3600, ""});
  ASSERT_FALSE(seconds.empty());
  EXPECT_GE(seconds.front().t, kStart + 70);
  EXPECT_GE(store_->zone_series({"vtest", "people", "1s", kStart - 3600, kStart + 3600, ""}).front().t,
            kStart + 70);
  EXPECT_EQ(store_->line_series({"vtest", "people", "1m", kStart - 3600, kStart + 3600, ""}).size(), 2u);
}

TEST_P(StoreTest, TypedReadsAnswerCountsFramesAndEvents) {
  auto results = counted_results();
  std::vector<FrameRecord> frames;
  for (int64_t f = 0; f < 100; ++f)
    frames.push_back({"vtest", f, f / 10.0, kStart + double(f) / 10, 768, 576,
                      f % 10 == 0 ? "vtest/x-" + std::to_string(f) + ".jpg" : "", f % 10 == 0 ? 100 + f : 0});
  frames.push_back({"other", 7, 0.7, kStart + 0.7, 320, 240, "other/x-7.jpg", 5});
  store_->write(results, frames);
  Result other = results[0];
  other.algo = "cars";
  other.frame = 0;
  store_->write({other});

  EXPECT_EQ(store_->algorithms("vtest"), (std::vector<std::string>{"cars", "people"}));
  EXPECT_TRUE(store_->algorithms("nope").empty());

  // Count series: the counts view, per bucket, from the bucket holding `from` up to `to`.
  auto series = store_->count_series({"vtest", "people", "1s", kStart + 10.7, kStart + 20, "*"});
  ASSERT_EQ(series.size(), 10u);  // the buckets of whole seconds from that of kStart + 10.7 to kStart + 20
  EXPECT_DOUBLE_EQ(series[0].t, 1790000011.0);  // kStart + 10.7 = 1790000011.2
  auto view = store_->query(
      "SELECT avg, min, max, samples FROM counts WHERE stream = 'vtest' AND algo = 'people' AND label = '*'"
      " AND level = '1s' AND bucket = " +
      std::to_string(int64_t(series[3].t)));
  ASSERT_EQ(view.rows.size(), 1u);
  EXPECT_DOUBLE_EQ(series[3].avg, view.rows[0][0].get<double>());
  EXPECT_EQ(series[3].min, view.rows[0][1].get<int64_t>());
  EXPECT_EQ(series[3].max, view.rows[0][2].get<int64_t>());
  EXPECT_EQ(series[3].samples, 10);
  // A label absent from every result of a bucket reads 0 there (ten results a second), as in memory.
  auto zebras = store_->count_series({"vtest", "people", "1s", kStart + 10.7, kStart + 20, "zebra"});
  ASSERT_EQ(zebras.size(), 10u);
  for (size_t i = 0; i < zebras.size(); ++i) {
    EXPECT_DOUBLE_EQ(zebras[i].t, bucket_start(kStart + 10.7, 1) + double(i));
    EXPECT_EQ(zebras[i].avg, 0);
    EXPECT_EQ(zebras[i].min, 0);
    EXPECT_EQ(zebras[i].max, 0);
    EXPECT_EQ(zebras[i].samples, 10) << i;
  }
  auto bags = store_->count_series({"vtest", "people", "1m", kStart - 60, kStart + 100, "bag"});
  ASSERT_FALSE(bags.empty());
  EXPECT_EQ(bags[0].min, 0);  // absent from most results of the minute
  EXPECT_THROW(store_->count_series({"vtest", "people", "5s", kStart, kStart + 1, "*"}),
               std::invalid_argument);

  // Archived frames, newest first, by stream, time and limit; one frame's path.
  auto archived = store_->frames({});
  ASSERT_EQ(archived.size(), 11u);
  EXPECT_EQ(archived[0].seq, 90);
  EXPECT_EQ(archived[0].archive_path, "vtest/x-90.jpg");
  EXPECT_EQ(archived[0].archive_bytes, 190);
  EXPECT_EQ(archived.back().seq, 0);
  auto some = store_->frames({"vtest", kStart + 2, kStart + 5, 2});
  ASSERT_EQ(some.size(), 2u);
  EXPECT_EQ(some[0].seq, 50);
  EXPECT_EQ(some[1].seq, 40);
  EXPECT_EQ(store_->frames({"other", std::nullopt, std::nullopt, 100}).size(), 1u);
  EXPECT_EQ(store_->archive_path("vtest", 30), "vtest/x-30.jpg");
  EXPECT_EQ(store_->archive_path("vtest", 31), std::nullopt);
  EXPECT_EQ(store_->archive_path("nope", 30), std::nullopt);

  // Events: newest first, filtered by stream, type and time, with their fields and archive flag.
  auto all = store_->events({"vtest", "", std::nullopt, std::nullopt, 10000});
  EXPECT_EQ(int64_t(all.size()), scalar(*store_, "SELECT count(*) FROM events"));
  ASSERT_GE(all.size(), 2u);
  EXPECT_GE(all[0].ts, all[1].ts);
  auto lines = store_->events({"vtest", "line", kStart, kStart + 10, 100});
  ASSERT_FALSE(lines.empty());
  for (const auto& e : lines) {
    EXPECT_EQ(e.event.type, "line");
    EXPECT_GE(e.ts, kStart);
    EXPECT_LE(e.ts, kStart + 10);
  }
  const auto& newest = lines.front();  // frame 91 (13 * 7): in
  EXPECT_EQ(newest.frame, 91);
  EXPECT_EQ(newest.algo, "people");
  EXPECT_DOUBLE_EQ(newest.pts, 9.1);
  EXPECT_EQ(newest.event.name, "door");
  EXPECT_EQ(newest.event.direction, "in");
  EXPECT_EQ(newest.event.label, "person");
  EXPECT_EQ(newest.event.track_id, 91);
  EXPECT_FALSE(newest.event.dwell);
  EXPECT_FALSE(newest.archived);
  auto exits = store_->events({"vtest", "exit", std::nullopt, std::nullopt, 3});
  ASSERT_EQ(exits.size(), 3u);
  EXPECT_EQ(exits[0].frame, 795 - 795 % 10 - 5);
  EXPECT_DOUBLE_EQ(exits[0].event.dwell.value_or(-1), 0.5);
  EXPECT_EQ(exits[0].event.direction, "");
  auto enters = store_->events({"vtest", "enter", kStart, kStart + 3, 100});
  ASSERT_EQ(enters.size(), 5u);  // frames 30, 20, 10, 0 of people and 0 of cars: all archived
  EXPECT_TRUE(enters[0].archived);
  EXPECT_EQ(enters[0].frame, 30);
  EXPECT_TRUE(enters.back().archived);
  EXPECT_TRUE(store_->events({"nope", "", std::nullopt, std::nullopt, 100}).empty());
}

// An offline run reads a file faster than it plays: here vtest.avi's 79.5 s in 2 s. Buckets of capture
// time then hold the whole video in one minute; buckets of media time hold its minutes as they play.
TEST_P(StoreTest, MediaClockBucketsFollowTheVideoNotTheProcessingSpeed) {
  auto results = counted_results();
  for (auto& r : results) r.capture_ts = kStart + double(r.frame) / 400;  // 400 frames a second
  store_->write(results);

  auto media = store_->count_series({"vtest", "people", "1m", -3600, 3600, "*", "media"});
  ASSERT_EQ(media.size(), 2u);
  EXPECT_EQ(media[0].t, 0);
  EXPECT_EQ(media[0].samples, 600);  // pts 0 .. 59.9
  EXPECT_EQ(media[1].t, 60);
  EXPECT_EQ(media[1].samples, 195);
  auto wall = store_->count_series({"vtest", "people", "1m", kStart - 3600, kStart + 3600, "*", "wall"});
  ASSERT_EQ(wall.size(), 1u);
  EXPECT_EQ(wall[0].samples, 795);
  auto people_by_minute = store_->count_series({"vtest", "people", "1m", 0, 3600, "person", "media"});
  ASSERT_EQ(people_by_minute.size(), 2u);
  int64_t people = 0;
  for (int64_t f = 0; f < 600; ++f)
    for (const auto& d : results[size_t(f)].detections) people += d.label == "person";
  EXPECT_DOUBLE_EQ(people_by_minute[0].avg, double(people) / 600);
  // Lines and zones too: every line sample of the first media minute, whatever the capture time.
  auto lines = store_->line_series({"vtest", "people", "1m", 0, 3600, "door", "media"});
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].samples, 600);
  EXPECT_EQ(lines[0].in, 600 / 13 + 1);  // frames 0, 13, ..., 598
  EXPECT_EQ(store_->zone_series({"vtest", "people", "1s", 10, 10, "lawn", "media"}).at(0).samples, 10);

  // "auto": the clock the writer recorded for the stream; none recorded reads as wall.
  SeriesQuery automatic{"vtest", "people", "1m", -1e12, 1e12, "*"};
  EXPECT_EQ(store_->resolve_clock("vtest", "auto"), "wall");
  EXPECT_EQ(store_->count_series(automatic).size(), 1u);
  auto offline = open_store(backend_->url());
  offline->set_stream_clock("media");
  Result film = results[0];
  film.stream = "film";
  offline->write({film});
  EXPECT_EQ(store_->resolve_clock("film", "auto"), "media");
  EXPECT_EQ(store_->resolve_clock("film", "wall"), "wall");
  EXPECT_EQ(store_->resolve_clock("nope", ""), "wall");
  automatic.stream = "film";
  ASSERT_EQ(store_->count_series(automatic).size(), 1u);
  EXPECT_EQ(store_->count_series(automatic)[0].t, 0);
  // A writer that records nothing (a bus worker) leaves the stream's clock as it is.
  film.frame = 1;
  store_->write({film});
  EXPECT_EQ(store_->resolve_clock("film", "auto"), "media");
  EXPECT_THROW(store_->resolve_clock("vtest", "tai"), std::invalid_argument);
  EXPECT_THROW(offline->set_stream_clock("tai"), std::invalid_argument);
}

// Runs statements on a backend's database directly, without the store (and its migrations).
void run_sql(const std::string& url, const std::string& sql) {
  if (url.rfind("postgresql://", 0) != 0) {
    sqlite::Database(url, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE).exec(sql);
    return;
  }
  PGconn* conn = PQconnectdb(url.c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* result = PQexec(conn, sql.c_str());
  EXPECT_EQ(PQresultStatus(result), PGRES_COMMAND_OK) << PQerrorMessage(conn) << sql;
  PQclear(result);
  PQfinish(conn);
}

// A database written by the previous schema (v3: roll-ups of capture time only) is migrated when opened:
// its roll-ups stay, on the wall clock, and the media roll-ups of the counts are rebuilt from the stored
// results, so the files analysed before the upgrade get their media minutes too.
TEST_P(StoreTest, AVersion3DatabaseMigratesToTheMediaClock) {
  std::filesystem::create_directories(dir_ / "old");
  auto old = test::make_store_backend(GetParam(), dir_ / "old");
  ASSERT_TRUE(old);
  const bool postgres = GetParam() == "postgres";
  auto steps = schema::migrations(postgres ? schema::Dialect::Postgres : schema::Dialect::Sqlite);
  ASSERT_EQ(steps.size(), 4u);
  std::string v3 = steps[0] + steps[1] + steps[2];
  v3 += postgres ? "CREATE TABLE sightflow_schema(version INTEGER NOT NULL);"
                   "INSERT INTO sightflow_schema(version) VALUES(3);"
                 : "PRAGMA user_version=3;";
  // Ten results 10 media seconds apart, captured 1 s apart: frame f finds f % 3 people, and a bag when
  // f % 4 == 0. The roll-ups v3 wrote: one wall minute, one line and one zone bucket.
  const double minute = 1789999980;                          // kStart is 20.5 s past it
  std::map<int64_t, std::map<std::string, int64_t>> counts;  // frame -> label -> count
  for (int64_t f = 0; f < 10; ++f) {
    counts[f]["person"] = f % 3;
    counts[f]["bag"] = f % 4 == 0;
    int64_t total = counts[f]["person"] + counts[f]["bag"];
    v3 += "INSERT INTO results(stream, algo, frame, pts, ts, count, json) VALUES('cam', 'people', " +
          std::to_string(f) + ", " + std::to_string(10 * f) + ", " + std::to_string(kStart + double(f)) +
          ", " + std::to_string(total) + ", '{}');";
    for (const auto& [label, n] : counts[f])
      for (int64_t i = 0; i < n; ++i)
        v3 +=
            "INSERT INTO detections(stream, algo, frame, label, score, x, y, w, h) VALUES('cam', 'people', " +
            std::to_string(f) + ", '" + label + "', 0.9, 1, 2, 3, 4);";
  }
  v3 +=
      "INSERT INTO rollups(stream, algo, label, level, bucket, samples, sum, min, max) VALUES('cam',"
      " 'people', '*', '1m', " +
      std::to_string(minute) +
      ", 10, 13, 0, 3);"
      "INSERT INTO line_rollups(stream, algo, line, level, bucket, samples, crossings_in, crossings_out)"
      " VALUES('cam', 'people', 'door', '1m', " +
      std::to_string(minute) +
      ", 10, 2, 1);"
      "INSERT INTO zone_rollups(stream, algo, zone, level, bucket, samples, sum, min, max) VALUES('cam',"
      " 'people', 'lawn', '1m', " +
      std::to_string(minute) + ", 10, 7, 0, 2);";
  run_sql(old->url(), v3);

  auto store = open_store(old->url());
  EXPECT_EQ(scalar(*store, postgres ? "SELECT version FROM sightflow_schema" : "PRAGMA user_version"), 4);
  // What v3 wrote stays, on the wall clock.
  EXPECT_EQ(
      scalar(*store, "SELECT samples FROM rollups WHERE clock = 'wall' AND level = '1m' AND label = '*'"),
      10);
  EXPECT_EQ(scalar(*store, "SELECT crossings_in FROM line_rollups WHERE clock = 'wall'"), 2);
  EXPECT_EQ(scalar(*store, "SELECT sum FROM zone_rollups WHERE clock = 'wall'"), 7);
  EXPECT_EQ(store->count_series({"cam", "people", "1m", minute, minute, "*", "wall"}).at(0).samples, 10);
  // Media minutes rebuilt from the results: pts 0 .. 50 and 60 .. 90.
  for (const auto& label : {std::string("*"), std::string("person"), std::string("bag")}) {
    auto series = store->count_series({"cam", "people", "1m", 0, 3600, label, "media"});
    ASSERT_EQ(series.size(), 2u) << label;
    for (size_t b = 0; b < 2; ++b) {
      int64_t first = b == 0 ? 0 : 6, last = b == 0 ? 5 : 9, sum = 0, min = 1 << 30, max = 0;
      for (int64_t f = first; f <= last; ++f) {
        int64_t n = label == "*" ? counts[f]["person"] + counts[f]["bag"] : counts[f][label];
        sum += n;
        min = std::min(min, n);
        max = std::max(max, n);
      }
      EXPECT_EQ(series[b].t, 60.0 * double(b)) << label;
      EXPECT_EQ(series[b].samples, last - first + 1) << label;
      EXPECT_DOUBLE_EQ(series[b].avg, double(sum) / double(last - first + 1)) << label << " " << b;
      EXPECT_EQ(series[b].min, min) << label << " " << b;
      EXPECT_EQ(series[b].max, max) << label << " " << b;
    }
  }
  EXPECT_EQ(store->count_series({"cam", "people", "1s", 0, 3600, "*", "media"}).size(), 10u);
  EXPECT_EQ(store->count_series({"cam", "people", "1h", 0, 3600, "*", "media"}).at(0).samples, 10);
  // New results add to the rebuilt buckets.
  Result late;
  late.stream = "cam";
  late.algo = "people";
  late.frame = 10;
  late.pts = 55;
  late.capture_ts = kStart + 10;
  late.detections.push_back({"person", 0, 0.9f, {1, 2, 3, 4}, {}});
  EXPECT_EQ(store->write({late}), 1u);
  auto first_minute = store->count_series({"cam", "people", "1m", 0, 0, "*", "media"});
  ASSERT_EQ(first_minute.size(), 1u);
  EXPECT_EQ(first_minute[0].samples, 7);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::ValuesIn(test::store_backends()),
                         [](const auto& info) { return info.param; });

TEST(SqliteStore, RefusesAFileFromANewerSchema) {
  test::TempDir dir;
  auto path = (dir / "future.db").string();
  open_store(path).reset();
  sqlite::Database(path, SQLITE_OPEN_READWRITE).exec("PRAGMA user_version=99");
  try {
    open_store(path);
    FAIL() << "opened a schema-99 file";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 99"), std::string::npos) << e.what();
  }
}

TEST(SqliteStore, NotADatabaseIsAClearError) {
  test::TempDir dir;
  auto path = dir / "text.db";
  std::ofstream(path) << "this is not a database, just some text that is long enough to have a header\n";
  try {
    open_store(path.string());
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
}

// Two workers (two connections) storing overlapping batches at the same time, in opposite orders: every
// result lands once, and the roll-ups count each once, whichever worker stored it.
TEST_P(StoreTest, ConcurrentWritersOfOverlappingBatchesStoreEachResultOnce) {
  auto results = vtest_results();
  size_t detections = 0;
  for (const auto& r : results) detections += r.detections.size();
  auto other = open_store(backend_->url());
  std::atomic<size_t> added{0};
  std::atomic<int> ready{0};
  // Worker 0 writes frames [0, 50), [50, 100), ...; worker 1 [0, 25), [25, 75), ... each batch backwards.
  auto worker = [&](Store& store, size_t offset, std::exception_ptr& error) {
    try {
      ++ready;
      while (ready < 2) std::this_thread::yield();
      for (size_t begin = 0; begin < results.size();) {
        size_t end = std::min(results.size(), begin == 0 && offset ? offset : begin + 50);
        std::vector<Result> batch(results.begin() + long(begin), results.begin() + long(end));
        if (offset) std::reverse(batch.begin(), batch.end());
        added += store.write(batch);
        begin = end;
      }
    } catch (...) {
      error = std::current_exception();
    }
  };
  std::exception_ptr errors[2];
  std::thread first(worker, std::ref(*store_), 0, std::ref(errors[0]));
  std::thread second(worker, std::ref(*other), 25, std::ref(errors[1]));
  first.join();
  second.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);

  EXPECT_EQ(added, 795u);
  EXPECT_EQ(scalar(*store_, "SELECT count(*) FROM results"), 795);
  EXPECT_EQ(scalar(*store_,
                   "SELECT count(*) FROM (SELECT stream, algo, frame FROM results"
                   " GROUP BY stream, algo, frame HAVING count(*) > 1) d"),
            0);
  EXPECT_EQ(scalar(*store_, "SELECT count(*) FROM detections"), int64_t(detections));
  for (const auto& level : kRollupLevels) {
    for (const std::string clock : {"wall", "media"}) {
      std::string where = " FROM rollups WHERE level = '" + std::string(level.name) + "' AND label = '*'" +
                          " AND clock = '" + clock + "'";
      EXPECT_EQ(scalar(*store_, "SELECT sum(samples)" + where), 795) << level.name << " " << clock;
      EXPECT_EQ(scalar(*store_, "SELECT sum(sum)" + where), int64_t(detections))
          << level.name << " " << clock;
    }
  }
}

TEST(PostgresStore, RefusesADatabaseFromANewerSchema) {
  test::TempDir dir;
  auto backend = test::make_store_backend("postgres", dir.path());
  open_store(backend->url()).reset();
  PGconn* conn = PQconnectdb(backend->url().c_str());
  PQclear(PQexec(conn, "UPDATE sightflow_schema SET version = 99"));
  PQfinish(conn);
  try {
    open_store(backend->url());
    FAIL() << "opened a schema-99 database";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 99"), std::string::npos) << e.what();
  }
}

// A connection the server dropped (restart, idle timeout) costs at most the call that finds it broken; the
// next one reconnects and prepares its statements again.
TEST(PostgresStore, ReconnectsAfterTheServerDroppedTheConnection) {
  test::TempDir dir;
  auto backend = test::make_store_backend("postgres", dir.path());
  auto store = open_store(backend->url());
  auto results = vtest_results();
  EXPECT_EQ(store->write({results.begin(), results.begin() + 10}), 10u);
  auto killer = open_store(backend->url());
  killer->query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND"
      " pid <> pg_backend_pid()");
  std::vector<Result> batch(results.begin() + 10, results.begin() + 20);
  try {
    store->write(batch);
  } catch (const StoreError&) {
    EXPECT_EQ(store->write(batch), 10u);  // the failed call wrote nothing
  }
  EXPECT_EQ(scalar(*store, "SELECT count(*) FROM results"), 20);
  EXPECT_EQ(scalar(*store,
                   "SELECT sum(samples) FROM rollups WHERE level = '1h' AND label = '*' AND clock = 'wall'"),
            20);
}

TEST(PostgresStore, MessagesNameTheServerButNeverThePassword) {
  EXPECT_EQ(redact_postgres_url("postgresql://u:s3cr%40t@db.example:5433/x?sslmode=require&password=p2"),
            "postgresql://u:***@db.example:5433/x?sslmode=require&password=***");
  EXPECT_EQ(redact_postgres_url("postgres://u@db/x?password=p2&sslmode=disable"),
            "postgres://u@db/x?password=***&sslmode=disable");
  EXPECT_EQ(redact_postgres_url("postgresql:///x"), "postgresql:///x");

  test::TempDir dir;
  auto backend = test::make_store_backend("postgres", dir.path());
  auto url = backend->url();
  auto with_password = url;
  with_password.replace(with_password.find("sightflow@"), 10, "sightflow:hunter2@");  // trust: not checked
  auto store = open_store(with_password);
  EXPECT_EQ(store->describe(), url.substr(0, url.find('@')) + ":***" + url.substr(url.find('@')));

  auto nowhere = "postgresql://sightflow:hunter2@127.0.0.1:" + std::to_string(test::free_tcp_port()) + "/x";
  try {
    open_store(nowhere);
    FAIL() << "connected to a port nobody listens on";
  } catch (const StoreError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("sightflow:***@127.0.0.1"), std::string::npos) << message;
    EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace sf

namespace sf {
namespace {

TEST(PostgresQuery, ReadsAndRefusesEveryWrite) {
  test::TempDir dir;
  auto backend = test::make_store_backend("postgres", dir.path());
  open_store(backend->url())->write(vtest_results());
  auto rows = postgres_read_only_query(backend->url(), "SELECT count(*) AS n FROM results");
  ASSERT_EQ(rows.columns, std::vector<std::string>{"n"});
  EXPECT_EQ(rows.rows.at(0).at(0), 795);
  for (const char* sql :
       {"INSERT INTO results(stream, algo, frame, ts, count, json) VALUES('a', 'b', 1, 0, 0, '{}')",
        "DELETE FROM results", "DROP TABLE detections", "CREATE TABLE x(a int)",
        "UPDATE rollups SET max = 0"}) {
    try {
      postgres_read_only_query(backend->url(), sql);
      ADD_FAILURE() << "not refused: " << sql;
    } catch (const StoreError& e) {
      EXPECT_NE(std::string(e.what()).find("query refused"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(postgres_read_only_query(backend->url(), "SELECT count(*) FROM results").rows.at(0).at(0), 795);
  EXPECT_GT(postgres_read_only_query(backend->url(), "SELECT count(*) FROM detections").rows.at(0).at(0), 0);
}

// `sightflow query` on PostgreSQL: the server stops a statement past --timeout (statement_timeout, 5 s by
// default), and a result past --max-rows is cancelled rather than read into memory. Waits are bounded:
// before the limits, pg_sleep(60) simply ran for a minute.
TEST(PostgresQuery, CliStopsRunawayQueriesAtTheLimits) {
  test::TempDir dir;
  auto backend = test::make_store_backend("postgres", dir.path());
  open_store(backend->url());  // the schema
  std::string out;
  EXPECT_EQ(test::run_command({test::sightflow_bin(), "query", "--db", backend->url(), "SELECT pg_sleep(60)"},
                              &out, 40),
            1)
      << out.substr(0, 2000);
  EXPECT_NE(out.find("sightflow: error: query stopped after 5 s (--timeout"), std::string::npos)
      << out.substr(0, 2000);
  EXPECT_EQ(test::run_command({test::sightflow_bin(), "query", "--db", backend->url(),
                               "SELECT generate_series(1, 200000) AS x"},
                              &out, 60),
            1)
      << out.substr(0, 2000);
  EXPECT_NE(out.find("sightflow: error: query stopped: more than 100000 rows (--max-rows"), std::string::npos)
      << out.substr(0, 2000);
  EXPECT_EQ(test::run_command({test::sightflow_bin(), "query", "--db", backend->url(), "--max-rows", "3",
                               "--format", "csv", "SELECT generate_series(1, 3) AS x"},
                              &out, 60),
            0)
      << out.substr(0, 2000);
  EXPECT_NE(out.find("x\n1\n2\n3\n"), std::string::npos) << out.substr(0, 2000);
}

}  // namespace
}  // namespace sf
