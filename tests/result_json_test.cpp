#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sightflow/result.hpp"
#include "sightflow/sink.hpp"
#include "test_support.hpp"

using namespace sf;

TEST(ResultJson, HasTheDocumentedKeysInOrder) {
  Result r;
  r.stream = "cam1";
  r.algo = "hog";
  r.frame = 42;
  r.pts = 4.2;
  r.ts = 1795300000.25;
  r.detections.push_back({"person", 0, 0.87654f, cv::Rect2f(10.04f, 20.26f, 30, 60), {}});
  auto j = to_json(r);
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"stream", "algo", "frame", "pts", "ts", "count", "detections"}));
  EXPECT_EQ(j["count"], 1);
  EXPECT_EQ(j["frame"], 42);
  EXPECT_EQ(j["detections"][0]["label"], "person");
  EXPECT_DOUBLE_EQ(j["detections"][0]["score"].get<double>(), 0.8765);
  EXPECT_EQ(j["detections"][0]["box"].dump(), "[10.0,20.3,30.0,60.0]");
  EXPECT_EQ(j.dump().find('\n'), std::string::npos);
}

TEST(ResultJson, ClassifierLabelsAndValuesAppearOnlyWhenPresent) {
  Result r;
  r.labels.push_back({"tabby", 281, 0.5f});
  r.values["crowded"] = true;
  auto j = to_json(r);
  EXPECT_EQ(j["count"], 0);
  EXPECT_EQ(j["labels"][0]["label"], "tabby");
  EXPECT_EQ(j["values"]["crowded"], true);
  EXPECT_FALSE(to_json(Result{}).contains("labels"));
}

TEST(JsonlSink, WritesOneParsableLinePerResult) {
  test::TempDir dir;
  auto path = (dir / "r.jsonl").string();
  auto sink = make_jsonl_sink(path, false);
  for (int i = 0; i < 3; ++i) {
    Result r;
    r.stream = "s";
    r.algo = "a";
    r.frame = i;
    sink->write(r);
  }
  sink->close();
  std::ifstream in(path);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) EXPECT_EQ(nlohmann::json::parse(line)["frame"], n++);
  EXPECT_EQ(n, 3);
}

TEST(JsonlSink, UnwritablePathIsNamed) {
  try {
    make_jsonl_sink("/nonexistent-dir/r.jsonl", false);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/r.jsonl"), std::string::npos);
  }
}
