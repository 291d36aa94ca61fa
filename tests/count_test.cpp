// The counting stages (lines, zones) on synthetic tracks: geometry, hysteresis, media time, carried
// results and option checks.
#include <gtest/gtest.h>

#include "count/line_counter.hpp"
#include "count/line_stage.hpp"
#include "count/zone_counter.hpp"
#include "count/zone_stage.hpp"
#include "sightflow/stage.hpp"

using namespace sf;
using nlohmann::json;

namespace {

// A detection whose box stands on (x, y): the bottom centre is the point the stages use.
Detection at(int64_t track, float x, float y, const std::string& label = "person") {
  Detection d;
  d.label = label;
  d.score = 0.9f;
  d.box = cv::Rect2f(x - 10, y - 40, 20, 40);
  d.track_id = track;
  return d;
}

Result result_at(double pts, std::vector<Detection> detections, bool carried = false) {
  Result r;
  r.stream = "cam";
  r.algo = "people";
  r.pts = pts;
  r.detections = std::move(detections);
  if (carried) r.values["motion"] = {{"mode", "skip"}, {"carried", true}};
  return r;
}

// Runs one result through a stage and returns it.
Result feed(Stage& stage, Result r) {
  stage.process(r, Frame{});
  return r;
}

// The door: A=(0,100) -> B=(200,100), drawn left to right. c(P) = (200-0)(Py-100) - (100-100)(Px-0)
// = 200 (Py-100), over |AB| = 200: c = Py - 100. Above the line (y < 100) c < 0, below c > 0, so walking
// down across it is `in`, walking up `out`.
LineCounter door(double band = 10) {
  LineCounterOptions o;
  o.lines.push_back({"door", {0, 100}, {200, 100}, band});
  return LineCounter(o);
}

}  // namespace

TEST(LineStage, SignedDistanceFollowsTheRuleAndIsInPixels) {
  const LineSpec horizontal{"h", {0, 100}, {200, 100}, 10};
  EXPECT_DOUBLE_EQ(LineCounter::signed_distance(horizontal, {100, 50}), -50);  // above: c < 0
  EXPECT_DOUBLE_EQ(LineCounter::signed_distance(horizontal, {100, 150}), 50);  // below: c > 0
  // A diagonal A=(0,0) -> B=(100,100): raw c(50,30) = 100*30 - 100*50 = -2000, / |AB| = 141.42 -> -14.14.
  const LineSpec diagonal{"d", {0, 0}, {100, 100}, 10};
  EXPECT_NEAR(LineCounter::signed_distance(diagonal, {50, 30}), -14.142, 1e-3);
  EXPECT_NEAR(LineCounter::signed_distance(diagonal, {30, 50}), 14.142, 1e-3);
}

TEST(LineStage, WalkingDownIsInAndBackUpIsOut) {
  auto counter = door();
  // y 50 (c = -50), 80 (c = -20): the negative side.
  EXPECT_TRUE(counter.update(0.0, {at(1, 100, 50)}).empty());
  EXPECT_TRUE(counter.update(0.1, {at(1, 100, 80)}).empty());
  // y 120 (c = +20 > band): crossed between y 80 and 120 at x = 100, halfway along A..B -> in.
  auto events = counter.update(0.2, {at(1, 100, 120)});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "line");
  EXPECT_EQ(events[0].name, "door");
  EXPECT_EQ(events[0].direction, "in");
  EXPECT_EQ(events[0].track_id, 1);
  EXPECT_EQ(events[0].label, "person");
  EXPECT_TRUE(counter.update(0.3, {at(1, 100, 150)}).empty());
  EXPECT_EQ(counter.totals("door").in, 1);
  EXPECT_EQ(counter.totals("door").out, 0);
  // Back up: y 80 (c = -20) -> out.
  events = counter.update(0.4, {at(1, 100, 80)});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].direction, "out");
  EXPECT_EQ(counter.totals("door").in, 1);
  EXPECT_EQ(counter.totals("door").out, 1);
}

TEST(LineStage, ReversingTheLineSwapsTheDirection) {
  LineCounterOptions o;
  o.lines.push_back({"door", {200, 100}, {0, 100}, 10});  // B -> A: c = -(Py - 100)
  LineCounter counter(o);
  counter.update(0.0, {at(1, 100, 50)});
  auto events = counter.update(0.1, {at(1, 100, 150)});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].direction, "out");
}

TEST(LineStage, JitterWithinTheBandCountsNothing) {
  auto counter = door(10);
  counter.update(0.0, {at(1, 100, 50)});  // negative side
  double t = 0.1;
  for (float y : {95.f, 105.f, 92.f, 108.f, 99.f, 109.f, 91.f, 101.f}) {  // |c| <= 9 each
    EXPECT_TRUE(counter.update(t, {at(1, 100, y)}).empty()) << "y " << y;
    t += 0.1;
  }
  EXPECT_EQ(counter.totals("door").in, 0);
  EXPECT_EQ(counter.totals("door").out, 0);
  // Leaving the band below is one `in`, however often it wobbled across y = 100 before.
  ASSERT_EQ(counter.update(t, {at(1, 100, 111)}).size(), 1u);
  EXPECT_EQ(counter.totals("door").in, 1);
  // A track that appears on the line and wobbles there has no side yet: nothing counts.
  for (float y : {100.f, 95.f, 105.f, 96.f}) counter.update(t += 0.1, {at(2, 50, y)});
  EXPECT_EQ(counter.totals("door").in, 1);
  EXPECT_EQ(counter.totals("door").out, 0);
}

TEST(LineStage, CrossingOutsideTheSegmentIsNotCounted) {
  auto counter = door();
  // At x = 300 the path meets the line's extension at t = 1.5 (past B): no count...
  counter.update(0.0, {at(1, 300, 50)});
  EXPECT_TRUE(counter.update(0.1, {at(1, 300, 150)}).empty());
  // ...but the track is now on the positive side: coming back up through the door is `out`.
  counter.update(0.2, {at(1, 100, 150)});
  auto events = counter.update(0.3, {at(1, 100, 50)});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].direction, "out");
  // A diagonal step that meets y = 100 at x = -20 (before A) is not counted either.
  counter.update(0.4, {at(2, -60, 50)});
  EXPECT_TRUE(counter.update(0.5, {at(2, 20, 150)}).empty());  // meets at x = -60 + 80 * 0.5 = -20
  EXPECT_EQ(counter.totals("door").in, 0);
}

TEST(LineStage, CountsPerClass) {
  auto counter = door();
  counter.update(0.0, {at(1, 50, 50), at(2, 100, 50, "car"), at(3, 150, 150)});
  counter.update(0.1, {at(1, 50, 150), at(2, 100, 150, "car"), at(3, 150, 50)});
  EXPECT_EQ(counter.totals("door").in, 2);
  EXPECT_EQ(counter.totals("door").out, 1);
  EXPECT_EQ(counter.totals("door", "person").in, 1);
  EXPECT_EQ(counter.totals("door", "person").out, 1);
  EXPECT_EQ(counter.totals("door", "car").in, 1);
  EXPECT_EQ(counter.totals("door", "car").out, 0);
  EXPECT_EQ(counter.summary(),
            json::parse(R"({"door": {"in": 2, "out": 1, "by_label": {"car": {"in": 1, "out": 0},
                            "person": {"in": 1, "out": 1}}}})"));
}

TEST(LineStage, IgnoresUntrackedDetectionsAndForgetsOldTracks) {
  LineCounterOptions o;
  o.lines.push_back({"door", {0, 100}, {200, 100}, 10});
  o.forget_after = 5;
  LineCounter counter(o);
  Detection untracked = at(1, 100, 50);
  untracked.track_id.reset();
  counter.update(0.0, {untracked});
  EXPECT_EQ(counter.tracked(), 0u);
  counter.update(1.0, {at(1, 100, 50), at(2, 20, 50)});
  EXPECT_EQ(counter.tracked(), 2u);
  counter.update(6.5, {at(2, 20, 60)});  // track 1 unseen for 5.5 s > 5: forgotten
  EXPECT_EQ(counter.tracked(), 1u);
  // Back after being forgotten, it has no side: appearing below the line counts nothing.
  EXPECT_TRUE(counter.update(6.6, {at(1, 100, 150)}).empty());
}

TEST(LineStage, StageWritesAnalyticsAndEventsAndSkipsCarriedResults) {
  auto stage = create_stage({"lines", json::parse(R"({"lines": [{"name": "door",
                                                      "points": [0, 100, 200, 100]}]})")});
  auto r = feed(*stage, result_at(0.0, {at(1, 100, 50)}));
  EXPECT_TRUE(r.events.empty());
  EXPECT_EQ(r.analytics["lines"]["door"]["in"], 0);
  // A carried result shows the track below the line: a repeat, not a sighting, so no crossing.
  r = feed(*stage, result_at(0.1, {at(1, 100, 150)}, true));
  EXPECT_TRUE(r.events.empty());
  EXPECT_EQ(r.analytics["lines"]["door"]["in"], 0);
  r = feed(*stage, result_at(0.2, {at(1, 100, 150)}));
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].direction, "in");
  EXPECT_EQ(r.analytics["lines"],
            json::parse(R"({"door": {"in": 1, "out": 0, "by_label": {"person": {"in": 1, "out": 0}}}})"));
  // The event and the analytics travel in the result's JSON.
  const auto j = to_json(r);
  EXPECT_EQ(j["lines"]["door"]["in"], 1);
  ASSERT_EQ(j["events"].size(), 1u);
  EXPECT_EQ(j["events"][0]["direction"], "in");
}

TEST(LineStage, LabelsOptionFiltersClasses) {
  auto stage = create_stage({"lines", json::parse(R"({"labels": ["car"], "band": 5,
                             "lines": [{"name": "door", "points": [0, 100, 200, 100]}]})")});
  feed(*stage, result_at(0.0, {at(1, 50, 90), at(2, 100, 90, "car")}));
  auto r = feed(*stage, result_at(0.1, {at(1, 50, 110), at(2, 100, 110, "car")}));  // 10 > band 5
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].label, "car");
  EXPECT_EQ(r.analytics["lines"]["door"]["in"], 1);
}

TEST(LineStage, FlagForm) {
  const auto line = parse_line_flag("door=0,100,200.5,100");
  EXPECT_EQ(line.name, "door");
  EXPECT_EQ(line.a, cv::Point2f(0, 100));
  EXPECT_EQ(line.b, cv::Point2f(200.5f, 100));
  // Flags become stage options.
  EXPECT_NO_THROW(create_stage({"lines", {{"lines", {to_json(line)}}, {"band", 4}}}));
  for (const char* bad :
       {"door", "=0,0,1,1", "door=0,0,1", "door=0,0,1,1,2,2", "door=0,0,x,1", "door=0,0,,1", "door=5,5,5,5"})
    EXPECT_THROW(parse_line_flag(bad), std::invalid_argument) << bad;
}

TEST(LineStage, BadOptionsAreRejectedByName) {
  auto message = [](const char* options) {
    try {
      create_stage({"lines", json::parse(options)});
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string ok_line = R"({"name": "door", "points": [0, 0, 10, 0]})";
  EXPECT_NE(message(R"({})").find("needs \"lines\""), std::string::npos);
  EXPECT_NE(message(R"({"lines": [], "bands": 3})").find("unknown option 'bands'"), std::string::npos);
  EXPECT_NE(message(R"({"lines": [{"name": "door", "points": [0, 0, 10, 0], "colour": 1}]})")
                .find("line 'door': unknown option 'colour'"),
            std::string::npos);
  EXPECT_NE(message(R"({"lines": [{"name": "door", "points": [0, 0, 10]}]})").find("line 'door'"),
            std::string::npos);
  EXPECT_NE(message(R"({"lines": [{"name": "door", "points": [0, 0, "a", 1]}]})").find("numbers"),
            std::string::npos);
  EXPECT_NE(message(R"({"lines": [{"name": "door", "points": [0, 0, 10, 0, 20, 0]}]})").find("exactly"),
            std::string::npos);
  EXPECT_NE(message(R"({"lines": [{"name": "door", "points": [3, 3, 3, 3]}]})").find("same"),
            std::string::npos);
  EXPECT_NE(message(R"({"lines": [{"name": "door"}]})").find("needs points"), std::string::npos);
  EXPECT_NE(message(R"({"lines": [{"points": [0, 0, 10, 0]}]})").find("name"), std::string::npos);
  EXPECT_NE(message(("{\"lines\": [" + ok_line + "," + ok_line + "]}").c_str()).find("used twice"),
            std::string::npos);
  EXPECT_NE(message(("{\"band\": -1, \"lines\": [" + ok_line + "]}").c_str()).find("band"),
            std::string::npos);
  EXPECT_NE(message(("{\"forget_after\": 0, \"lines\": [" + ok_line + "]}").c_str()).find("forget_after"),
            std::string::npos);
  EXPECT_NE(message(("{\"labels\": \"person\", \"lines\": [" + ok_line + "]}").c_str()).find("labels"),
            std::string::npos);
  EXPECT_NE(message(R"({"lines": []})").find("stage 'lines'"), std::string::npos);
}

namespace {

// The lawn: a 100 x 100 square; (50, 50) is inside, (150, 50) outside.
ZoneCounter lawn(int min_frames = 3, double loiter = 0, double exit_after = 2) {
  ZoneCounterOptions o;
  o.zones.push_back({"lawn", {{0, 0}, {100, 0}, {100, 100}, {0, 100}}, loiter, min_frames, exit_after});
  return ZoneCounter(o);
}

std::vector<std::string> types(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.type);
  return out;
}

}  // namespace

TEST(ZoneStage, EntersAfterMinFramesAndExitsWithDwellFromPts) {
  auto zone = lawn(3);
  EXPECT_TRUE(zone.update(1.0, {at(7, 50, 50)}).empty());
  EXPECT_TRUE(zone.update(1.25, {at(7, 50, 50)}).empty());
  EXPECT_EQ(zone.count("lawn"), 0);
  auto events = zone.update(1.5, {at(7, 55, 50)});  // third in a row
  ASSERT_EQ(types(events), std::vector<std::string>{"enter"});
  EXPECT_EQ(events[0].name, "lawn");
  EXPECT_EQ(events[0].track_id, 7);
  EXPECT_EQ(events[0].label, "person");
  EXPECT_FALSE(events[0].dwell);
  EXPECT_EQ(zone.count("lawn"), 1);
  for (double t = 1.75; t < 4.0; t += 0.25) EXPECT_TRUE(zone.update(t, {at(7, 60, 60)}).empty());
  // Seen outside at pts 4.0: exits; dwell from its first sighting inside (1.0) to 4.0.
  events = zone.update(4.0, {at(7, 150, 50)});
  ASSERT_EQ(types(events), std::vector<std::string>{"exit"});
  ASSERT_TRUE(events[0].dwell);
  EXPECT_DOUBLE_EQ(*events[0].dwell, 3.0);
  EXPECT_EQ(zone.count("lawn"), 0);
  EXPECT_EQ(zone.tracked(), 0u);
}

TEST(ZoneStage, AStepOutsideRestartsTheRow) {
  auto zone = lawn(3);
  zone.update(0.0, {at(1, 50, 50)});
  zone.update(0.1, {at(1, 50, 50)});
  zone.update(0.2, {at(1, 150, 50)});  // out before it counted: no exit either
  EXPECT_TRUE(zone.update(0.3, {at(1, 50, 50)}).empty());
  EXPECT_TRUE(zone.update(0.4, {at(1, 50, 50)}).empty());
  EXPECT_EQ(types(zone.update(0.5, {at(1, 50, 50)})), std::vector<std::string>{"enter"});
}

TEST(ZoneStage, LoiterFiresOnceWithItsDwell) {
  auto zone = lawn(1, 2.0);
  EXPECT_EQ(types(zone.update(10.0, {at(1, 50, 50)})), std::vector<std::string>{"enter"});
  EXPECT_TRUE(zone.update(11.0, {at(1, 50, 50)}).empty());
  auto events = zone.update(12.0, {at(1, 50, 50)});
  ASSERT_EQ(types(events), std::vector<std::string>{"loiter"});
  EXPECT_DOUBLE_EQ(*events[0].dwell, 2.0);
  for (double t = 13.0; t <= 20.0; t += 1) EXPECT_TRUE(zone.update(t, {at(1, 50, 50)}).empty()) << t;
  // Leaving and coming back is a new stay, with its own loiter.
  EXPECT_EQ(types(zone.update(21.0, {at(1, 150, 50)})), std::vector<std::string>{"exit"});
  zone.update(22.0, {at(1, 50, 50)});
  EXPECT_TRUE(zone.update(23.0, {at(1, 50, 50)}).empty());
  EXPECT_EQ(types(zone.update(24.0, {at(1, 50, 50)})), std::vector<std::string>{"loiter"});
}

TEST(ZoneStage, OccupancyCountsTracksInsideByClass) {
  ZoneCounterOptions o;
  o.zones.push_back({"lawn", {{0, 0}, {100, 0}, {100, 100}, {0, 100}}, 0, 1, 2});
  o.zones.push_back({"drive", {{100, 0}, {300, 0}, {100, 100}}, 0, 1, 2});  // a triangle
  ZoneCounter zone(o);
  // Track 4 stands on the shared edge x = 100: on an edge counts as inside, so it is in both.
  zone.update(0.0, {at(1, 20, 20), at(2, 80, 80), at(3, 50, 50, "dog"), at(4, 100, 10), at(5, 500, 50)});
  EXPECT_EQ(zone.count("lawn"), 4);
  EXPECT_EQ(zone.count("drive"), 1);
  EXPECT_EQ(zone.summary(), json::parse(R"({"lawn": {"count": 4, "by_label": {"person": 3, "dog": 1}},
                                             "drive": {"count": 1, "by_label": {"person": 1}}})"));
  zone.update(0.5, {at(1, 20, 20), at(2, 180, 80), at(3, 50, 50, "dog"), at(4, 100, 10)});
  EXPECT_EQ(zone.count("lawn"), 3);
}

TEST(ZoneStage, AVanishedTrackExitsAfterExitAfter) {
  auto zone = lawn(3, 0, 2.0);
  zone.update(0.0, {at(1, 50, 50)});
  zone.update(0.5, {at(1, 50, 50)});
  zone.update(1.0, {at(1, 50, 50), at(2, 50, 50)});  // 1 enters; 2 seen once, never counts
  EXPECT_EQ(zone.count("lawn"), 1);
  EXPECT_TRUE(zone.update(2.0, {}).empty());
  EXPECT_TRUE(zone.update(3.0, {}).empty());  // unseen for 2.0 s: not yet more than exit_after
  auto events = zone.update(3.5, {});
  ASSERT_EQ(types(events), std::vector<std::string>{"exit"});
  EXPECT_EQ(events[0].track_id, 1);
  EXPECT_DOUBLE_EQ(*events[0].dwell, 1.0);  // first sighting inside (0.0) to the last (1.0)
  EXPECT_EQ(zone.count("lawn"), 0);
  EXPECT_EQ(zone.tracked(), 0u);  // track 2's partial row is forgotten too
}

TEST(ZoneStage, CarriedResultsChangeNothing) {
  auto stage = create_stage({"zones", json::parse(R"({"zones": [{"name": "lawn",
                             "points": [0, 0, 100, 0, 100, 100, 0, 100], "min_frames": 3}]})")});
  feed(*stage, result_at(0.0, {at(1, 50, 50)}));
  feed(*stage, result_at(0.1, {at(1, 50, 50)}));
  // Repeats neither advance the row nor, with time passing far beyond exit_after, expire the track.
  for (double t = 0.2; t < 10; t += 1) {
    auto r = feed(*stage, result_at(t, {at(1, 50, 50)}, true));
    EXPECT_TRUE(r.events.empty());
    EXPECT_EQ(r.analytics["zones"]["lawn"]["count"], 0);
  }
  auto r = feed(*stage, result_at(10.1, {at(1, 50, 50)}));
  // The gap counts against exit_after at the next real sighting: 10.1 - 0.1 > 2, so the partial row is
  // dropped first and this is a first sighting again.
  EXPECT_TRUE(r.events.empty());
  feed(*stage, result_at(10.2, {at(1, 50, 50)}));
  r = feed(*stage, result_at(10.3, {at(1, 50, 50)}));
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].type, "enter");
  EXPECT_EQ(r.analytics["zones"], json::parse(R"({"lawn": {"count": 1, "by_label": {"person": 1}}})"));
  // Counted tracks keep their place through carried results, whatever those show.
  r = feed(*stage, result_at(11.0, {at(1, 150, 50)}, true));
  EXPECT_TRUE(r.events.empty());
  EXPECT_EQ(r.analytics["zones"]["lawn"]["count"], 1);
  const auto j = to_json(r);
  EXPECT_EQ(j["zones"]["lawn"]["count"], 1);
}

TEST(ZoneStage, StageEventsCarryDwellAndTopLevelDefaults) {
  auto stage = create_stage({"zones", json::parse(R"({"min_frames": 1, "loiter": 1, "labels": ["person"],
                             "zones": [{"name": "lawn", "points": [0, 0, 100, 0, 100, 100, 0, 100]}]})")});
  auto r = feed(*stage, result_at(5.0, {at(1, 50, 50), at(2, 50, 50, "car")}));
  ASSERT_EQ(r.events.size(), 1u);  // the car is not counted
  EXPECT_EQ(r.events[0].type, "enter");
  r = feed(*stage, result_at(6.0, {at(1, 50, 50)}));
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].type, "loiter");
  EXPECT_DOUBLE_EQ(*r.events[0].dwell, 1.0);
  r = feed(*stage, result_at(6.5, {at(1, 200, 50)}));
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].type, "exit");
  EXPECT_DOUBLE_EQ(*r.events[0].dwell, 1.5);
  EXPECT_EQ(to_json(r.events[0], r)["dwell"], 1.5);
}

TEST(ZoneStage, PtsThatRestartsKeepsDwellRunning) {
  auto stage = create_stage({"zones", json::parse(R"({"min_frames": 1,
                             "zones": [{"name": "lawn", "points": [0, 0, 100, 0, 100, 100, 0, 100]}]})")});
  feed(*stage, result_at(9.0, {at(1, 50, 50)}));
  feed(*stage, result_at(10.0, {at(1, 50, 50)}));
  feed(*stage, result_at(0.5, {at(1, 50, 50)}));  // the file looped: the jump itself takes no time
  auto r = feed(*stage, result_at(1.0, {at(1, 150, 50)}));
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_DOUBLE_EQ(*r.events[0].dwell, 1.5);  // 9.0 -> 10.0, then 0.5 -> 1.0
}

TEST(ZoneStage, FlagForm) {
  const auto zone = parse_zone_flag("lawn=0,0,100,0,100,100,0,100");
  EXPECT_EQ(zone.name, "lawn");
  ASSERT_EQ(zone.polygon.size(), 4u);
  EXPECT_EQ(zone.polygon[2], cv::Point2f(100, 100));
  EXPECT_NO_THROW(create_stage({"zones", {{"zones", {to_json(zone)}}, {"min_frames", 2}}}));
  for (const char* bad :
       {"lawn", "=0,0,1,0,1,1", "lawn=0,0,1,1", "lawn=0,0,1,0,1", "lawn=0,0,1,0,1,q", "lawn=0,0,1,1,2,2"})
    EXPECT_THROW(parse_zone_flag(bad), std::invalid_argument) << bad;
}

TEST(ZoneStage, BadOptionsAreRejectedByName) {
  auto message = [](const std::string& options) {
    try {
      create_stage({"zones", json::parse(options)});
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string ok = R"({"name": "lawn", "points": [0, 0, 10, 0, 10, 10]})";
  auto with = [&](const std::string& top) { return "{" + top + "\"zones\": [" + ok + "]}"; };
  EXPECT_EQ(message(with("")), "no error");
  EXPECT_NE(message("{}").find("needs \"zones\""), std::string::npos);
  EXPECT_NE(message(with(R"("dwell": 1,)")).find("unknown option 'dwell'"), std::string::npos);
  EXPECT_NE(message(R"({"zones": [{"name": "lawn", "points": [0, 0, 10, 0, 10, 10], "inertia": 3}]})")
                .find("zone 'lawn': unknown option 'inertia'"),
            std::string::npos);
  EXPECT_NE(message(R"({"zones": [{"name": "lawn", "points": [0, 0, 10, 0]}]})").find("at least 3"),
            std::string::npos);
  EXPECT_NE(message(R"({"zones": [{"name": "lawn", "points": [0, 0, 10, 0, 10]}]})").find("even"),
            std::string::npos);
  EXPECT_NE(message(R"({"zones": [{"name": "lawn", "points": [0, 0, 5, 5, 10, 10]}]})").find("no area"),
            std::string::npos);
  EXPECT_NE(message(R"({"zones": [{"name": "lawn", "points": "0,0,1,0,1,1"}]})").find("array"),
            std::string::npos);
  EXPECT_NE(message(with(R"("min_frames": 0,)")).find("min_frames"), std::string::npos);
  EXPECT_NE(message(with(R"("min_frames": 1.5,)")).find("min_frames"), std::string::npos);
  EXPECT_NE(message(with(R"("exit_after": 0,)")).find("exit_after"), std::string::npos);
  EXPECT_NE(message(with(R"("loiter": -1,)")).find("loiter"), std::string::npos);
  EXPECT_NE(message("{\"zones\": [" + ok + "," + ok + "]}").find("used twice"), std::string::npos);
  EXPECT_NE(message(R"({"zones": [{"name": "", "points": [0, 0, 10, 0, 10, 10]}]})").find("name"),
            std::string::npos);
}

TEST(ZoneStage, BothStagesAreBuiltIn) {
  const auto types = stage_types();
  EXPECT_NE(std::find(types.begin(), types.end(), "lines"), types.end());
  EXPECT_NE(std::find(types.begin(), types.end(), "zones"), types.end());
}
