#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "common/yaml_reader.hpp"
#include "http/http_url.hpp"
#include "sightflow/config.hpp"
#include "sightflow/model_pool.hpp"
#include "sink/webhook_sink.hpp"

namespace sf {
namespace {

using Reader = YamlReader<ConfigError>;

StreamConfig read_stream(const Reader& r, const YAML::Node& node, const std::string& field) {
  r.only_keys(node, field,
              {"name", "source", "fps", "start", "loop", "width", "height", "stop_at_end", "reconnect_max",
               "max_reconnects", "timeout", "image_fps", "decode_threads"});
  StreamConfig s;
  s.source = r.get<std::string>(node, "source", field, "");
  if (s.source.empty())
    r.fail(node, field + ".source", "missing (a file, URL, /dev/videoN, image or folder)");
  auto& o = s.options;
  o.name = r.get<std::string>(node, "name", field, "");
  o.target_fps = r.get<double>(node, "fps", field, 0);
  o.start = r.get<double>(node, "start", field, 0);
  o.loop = r.get<bool>(node, "loop", field, false);
  o.width = r.get<int>(node, "width", field, 0);
  o.height = r.get<int>(node, "height", field, 0);
  o.stop_at_end = r.get<bool>(node, "stop_at_end", field, false);
  o.reconnect_max_s = r.get<double>(node, "reconnect_max", field, o.reconnect_max_s);
  o.max_reconnects = r.get<int>(node, "max_reconnects", field, o.max_reconnects);
  o.io_timeout_s = r.get<double>(node, "timeout", field, o.io_timeout_s);
  o.image_fps = r.get<double>(node, "image_fps", field, o.image_fps);
  o.decode_threads = r.get<int>(node, "decode_threads", field, o.decode_threads);
  if (o.decode_threads < 0) r.fail(node["decode_threads"], field + ".decode_threads", "must not be negative");
  if (o.target_fps < 0) r.fail(node["fps"], field + ".fps", "must not be negative");
  if (o.start < 0) r.fail(node["start"], field + ".start", "must not be negative");
  if (o.width < 0 || o.height < 0) r.fail(node, field, "width and height must not be negative");
  if (o.image_fps <= 0) r.fail(node["image_fps"], field + ".image_fps", "must be positive");
  return s;
}

// `motion: skip` or a mapping {mode, min_area, full_frame_every, ...} (docs/MOTION.md).
MotionOptions read_motion(const Reader& r, const YAML::Node& node, const std::string& field) {
  MotionOptions m;
  auto set = [&](const YAML::Node& value, const std::string& key, const std::string& where) {
    if (!value.IsScalar()) r.fail(value, where, "expected a value");
    try {
      set_motion_option(m, key, value.as<std::string>());
    } catch (const std::invalid_argument& e) {
      r.fail(value, where, e.what());
    }
  };
  if (node.IsScalar()) {
    set(node, "mode", field);
    return m;
  }
  if (!node.IsMap()) r.fail(node, field, "expected off, skip, roi or a mapping with mode");
  const auto& names = motion_option_names();
  r.only_keys(node, field, std::set<std::string>(names.begin(), names.end()));
  if (!node["mode"].IsDefined()) r.fail(node, field + ".mode", "missing (off, skip or roi)");
  for (const auto& kv : node) {
    auto key = kv.first.as<std::string>();
    set(kv.second, key, field + "." + key);
  }
  try {
    validate(m);
  } catch (const std::invalid_argument& e) {
    r.fail(node, field, e.what());
  }
  return m;
}

// Stage options as JSON: numbers, booleans and strings as YAML scalars read, lists and mappings nested.
nlohmann::json to_json_value(const YAML::Node& node) {
  if (node.IsMap()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& kv : node) out[kv.first.as<std::string>()] = to_json_value(kv.second);
    return out;
  }
  if (node.IsSequence()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : node) out.push_back(to_json_value(item));
    return out;
  }
  if (!node.IsScalar()) return nullptr;
  const std::string text = node.as<std::string>();
  if (node.Tag() == "!") return text;  // quoted: a string
  if (text == "true" || text == "false") return text == "true";
  try {
    size_t used = 0;
    long long integer = std::stoll(text, &used);
    if (used == text.size()) return integer;
    double number = std::stod(text, &used);
    if (used == text.size()) return number;
  } catch (const std::exception&) {
  }
  return text;
}

// `stages: [TYPE, {type: TYPE, OPTION: VALUE, ...}]`; `track: true | {options}`, `lines: [...]`,
// `zones: [...]` are the same stages written shorter (docs/CONFIG.md). Each is built once here, so that a
// bad option fails with its line before anything runs.
std::vector<StageSpec> read_stages(const Reader& r, const YAML::Node& node, const std::string& field) {
  std::vector<StageSpec> extra;
  if (auto list = node["stages"]; list.IsDefined() && !list.IsNull()) {
    if (!list.IsSequence()) r.fail(list, field + ".stages", "expected a list of stage types or mappings");
    for (size_t i = 0; i < list.size(); ++i) {
      std::string where = field + ".stages[" + std::to_string(i) + "]";
      StageSpec spec;
      if (list[i].IsScalar()) {
        spec.type = list[i].as<std::string>();
      } else if (list[i].IsMap()) {
        spec.options = to_json_value(list[i]);
        spec.type =
            r.scalar<std::string>(r.require(list[i], "type", where, "the stage's type"), where + ".type");
        spec.options.erase("type");
      } else {
        r.fail(list[i], where, "expected a stage type or a mapping with type");
      }
      extra.push_back(std::move(spec));
    }
  }
  std::optional<nlohmann::json> track;
  if (auto t = node["track"]; t.IsDefined() && !t.IsNull()) {
    if (t.IsMap())
      track = to_json_value(t);
    else if (r.scalar<bool>(t, field + ".track"))
      track = nlohmann::json::object();
  }
  auto list_of = [&](const char* key) {
    auto n = node[key];
    if (!n.IsDefined() || n.IsNull()) return nlohmann::json::array();
    if (!n.IsSequence()) r.fail(n, field + "." + key, "expected a list");
    return to_json_value(n);
  };
  auto specs =
      analysis_stages(track ? &*track : nullptr, list_of("lines"), list_of("zones"), std::move(extra));
  for (const auto& spec : specs) {
    try {
      create_stage(spec);
    } catch (const std::invalid_argument& e) {
      r.fail(node, field + ".stages", e.what());
    }
  }
  return specs;
}

AlgorithmConfig read_algorithm(const Reader& r, const YAML::Node& node, const std::string& field,
                               size_t index) {
  if (!node.IsMap()) r.fail(node, field, "expected a mapping with detector");
  r.only_keys(node, field,
              {"name", "detector", "params", "classes", "min_score", "frame_count", "frame_step", "interval",
               "streams", "motion", "profile", "stages", "track", "lines", "zones"});
  AlgorithmConfig a;
  a.detector = r.get<std::string>(node, "detector", field, a.detector);
  a.name = r.get<std::string>(node, "name", field,
                              index == 0 ? a.detector : a.detector + "-" + std::to_string(index));
  a.min_score = r.get<float>(node, "min_score", field, 0.f);
  a.schedule.frame_count = r.get<int>(node, "frame_count", field, 1);
  a.schedule.frame_step = r.get<int>(node, "frame_step", field, 1);
  a.schedule.interval = r.get<double>(node, "interval", field, 0.0);
  for (const auto& c : r.strings(node, "classes", field)) a.classes.insert(c);
  a.streams = r.strings(node, "streams", field);
  if (auto params = node["params"]; params.IsDefined() && !params.IsNull()) {
    if (!params.IsMap()) r.fail(params, field + ".params", "expected a mapping of name: value");
    for (const auto& kv : params) {
      if (!kv.second.IsScalar())
        r.fail(kv.second, field + ".params." + kv.first.as<std::string>(), "expected a value");
      a.params[kv.first.as<std::string>()] = kv.second.as<std::string>();
    }
  }
  if (auto motion = node["motion"]; motion.IsDefined() && !motion.IsNull())
    a.motion = read_motion(r, motion, field + ".motion");
  a.profile = r.get<std::string>(node, "profile", field, "");
  a.stages = read_stages(r, node, field);
  try {
    validate(a.schedule);
  } catch (const std::invalid_argument& e) {
    r.fail(node, field, e.what());
  }
  return a;
}

void read_store(const Reader& r, const YAML::Node& sinks, SinkConfig& c) {
  c.db = r.get<std::string>(sinks, "db", "sinks", "");
  if (auto node = sinks["retention"]; node.IsDefined() && !node.IsNull()) {
    r.only_keys(node, "sinks.retention", {"raw", "1s", "1m", "1h"});
    c.retention.raw_seconds = r.get<double>(node, "raw", "sinks.retention", c.retention.raw_seconds);
    for (size_t i = 0; i < std::size(kRollupLevels); ++i)
      c.retention.rollup_seconds[i] =
          r.get<double>(node, kRollupLevels[i].name, "sinks.retention", c.retention.rollup_seconds[i]);
  }
  if (auto node = sinks["archive"]; node.IsDefined() && !node.IsNull()) {
    const std::string field = "sinks.archive";
    r.only_keys(node, field,
                {"dir", "keep_detections", "keep_every", "annotated", "max_age", "max_mb", "quality"});
    c.archive_dir = r.get<std::string>(node, "dir", field, "");
    if (c.archive_dir.empty()) r.fail(node, field + ".dir", "missing (the folder for archived frames)");
    auto& a = c.archive;
    a.keep_detections = r.get<bool>(node, "keep_detections", field, a.keep_detections);
    a.keep_every = r.get<int>(node, "keep_every", field, a.keep_every);
    a.annotated = r.get<bool>(node, "annotated", field, a.annotated);
    a.max_age_s = r.get<double>(node, "max_age", field, a.max_age_s);
    a.max_bytes = int64_t(r.get<double>(node, "max_mb", field, 0) * 1e6);
    a.quality = r.get<int>(node, "quality", field, a.quality);
    if (a.keep_every < 0) r.fail(node["keep_every"], field + ".keep_every", "must not be negative");
    if (a.quality < 1 || a.quality > 100) r.fail(node["quality"], field + ".quality", "must be 1..100");
  }
}

// `webhook: URL` or `webhook: {url, only_changes, queue, dead_letter, timeout, max_retry_seconds}`.
void read_webhook(const Reader& r, const YAML::Node& node, WebhookConfig& w) {
  const std::string field = "sinks.webhook";
  if (node.IsScalar()) {
    w.url = r.scalar<std::string>(node, field);
  } else {
    r.only_keys(node, field, {"url", "only_changes", "queue", "dead_letter", "timeout", "max_retry_seconds"});
    w.url = r.scalar<std::string>(r.require(node, "url", field, "http://HOST[:PORT][/PATH]"), field + ".url");
    w.only_changes = r.get<bool>(node, "only_changes", field, w.only_changes);
    int queue = r.get<int>(node, "queue", field, int(w.queue));
    if (queue < 1) r.fail(node["queue"], field + ".queue", "must be at least 1");
    w.queue = size_t(queue);
    w.dead_letter = r.get<std::string>(node, "dead_letter", field, w.dead_letter);
    if (w.dead_letter.empty()) r.fail(node["dead_letter"], field + ".dead_letter", "must name a file");
    w.timeout = r.get<double>(node, "timeout", field, w.timeout);
    if (w.timeout <= 0) r.fail(node["timeout"], field + ".timeout", "must be positive");
    w.max_retry_seconds = r.get<double>(node, "max_retry_seconds", field, w.max_retry_seconds);
    if (w.max_retry_seconds < 0)
      r.fail(node["max_retry_seconds"], field + ".max_retry_seconds", "must not be negative");
  }
  try {
    parse_http_url(w.url, "URL");
  } catch (const std::invalid_argument& e) {
    r.fail(node.IsScalar() ? node : node["url"], node.IsScalar() ? field : field + ".url", e.what());
  }
}

}  // namespace

RunConfig parse_run_config(const std::string& yaml_text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(origin + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  Reader r(origin);
  if (!root.IsMap()) throw ConfigError(origin + ": expected a mapping with streams and algorithms");
  r.only_keys(root, "", {"mode", "max_frames", "stats_interval", "streams", "algorithms", "sinks"});
  RunConfig c;
  try {
    c.mode = parse_mode(r.get<std::string>(root, "mode", "config", "offline"));
  } catch (const std::invalid_argument& e) {
    r.fail(root["mode"], "mode", e.what());
  }
  c.max_frames = r.get<int64_t>(root, "max_frames", "config", -1);
  c.stats_interval = r.get<double>(root, "stats_interval", "config", c.stats_interval);
  auto streams = root["streams"];
  if (!streams.IsDefined() || !streams.IsSequence() || streams.size() == 0)
    r.fail(streams.IsDefined() ? streams : root, "streams", "expected a non-empty list of streams");
  for (size_t i = 0; i < streams.size(); ++i)
    c.streams.push_back(read_stream(r, streams[i], "streams[" + std::to_string(i) + "]"));
  auto algorithms = root["algorithms"];
  if (!algorithms.IsDefined() || !algorithms.IsSequence() || algorithms.size() == 0)
    r.fail(algorithms.IsDefined() ? algorithms : root, "algorithms",
           "expected a non-empty list of algorithms");
  for (size_t i = 0; i < algorithms.size(); ++i)
    c.algorithms.push_back(read_algorithm(r, algorithms[i], "algorithms[" + std::to_string(i) + "]", i));
  if (auto sinks = root["sinks"]; sinks.IsDefined() && !sinks.IsNull()) {
    r.only_keys(sinks, "sinks", {"jsonl", "video", "events", "mot", "db", "retention", "archive", "webhook"});
    c.sinks.jsonl = r.get<std::string>(sinks, "jsonl", "sinks", "");
    c.sinks.events = r.get<std::string>(sinks, "events", "sinks", "");
    c.sinks.mot = r.get<std::string>(sinks, "mot", "sinks", "");
    c.sinks.video = r.get<std::string>(sinks, "video", "sinks", "");
    read_store(r, sinks, c.sinks);
    if (YAML::Node webhook = sinks["webhook"]; webhook.IsDefined() && !webhook.IsNull())
      read_webhook(r, webhook, c.sinks.webhook);
  }
  try {
    validate(c);
  } catch (const ConfigError& e) {
    throw ConfigError(origin + ": " + e.what());
  }
  return c;
}

AlgorithmConfig parse_algorithm_config(const nlohmann::json& description, const std::string& origin) {
  // JSON is YAML: one reader for both, so the API's errors read as the config file's do.
  YAML::Node node;
  try {
    node = YAML::Load(description.dump());
  } catch (const YAML::Exception& e) {
    throw ConfigError(origin + ": " + e.msg);
  }
  return read_algorithm(Reader(origin), node, "algorithm", 0);
}

RunConfig load_run_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read config file " + path);
  std::stringstream text;
  text << in.rdbuf();
  return parse_run_config(text.str(), path);
}

void validate(const RunConfig& c) {
  if (c.streams.empty()) throw ConfigError("no stream: give at least one source");
  if (c.algorithms.empty()) throw ConfigError("no algorithm: give at least one detector");
  std::set<std::string> stream_names;
  for (const auto& s : c.streams) {
    auto name = s.options.name.empty() ? default_stream_name(s.source) : s.options.name;
    if (!stream_names.insert(name).second)
      throw ConfigError("two streams are named '" + name + "' (give each a distinct name)");
  }
  if (!c.sinks.archive_dir.empty() && c.sinks.db.empty())
    throw ConfigError("a frame archive needs a results store (sinks.db / --db) to index its files");
  std::set<std::string> algo_names;
  for (const auto& a : c.algorithms) {
    if (!algo_names.insert(a.name).second) throw ConfigError("two algorithms are named '" + a.name + "'");
    for (const auto& s : a.streams) {
      if (!stream_names.count(s))
        throw ConfigError("algorithm '" + a.name + "' names unknown stream '" + s + "'");
    }
    try {
      validate(a.schedule);
    } catch (const std::invalid_argument& e) {
      throw ConfigError("algorithm '" + a.name + "': " + e.what());
    }
  }
}

PipelineOptions pipeline_options(const RunConfig& c) {
  PipelineOptions o;
  o.mode = c.mode;
  o.max_frames = c.max_frames;
  return o;
}

void populate(Pipeline& pipeline, const RunConfig& c) {
  for (const auto& s : c.streams) pipeline.add_stream(s.source, s.options);
  // Algorithms asking for the same detector and parameters share one batched model.
  auto pool = std::make_shared<ModelPool>();
  for (const auto& a : c.algorithms) {
    build_stages(a);  // a bad stage or profile fails here, before any source opens
    pipeline.add_algorithm(
        a.name, [a, pool] { return build_algorithm(a, *pool); }, a.schedule, a.streams,
        [a] { return build_stages(a); });
  }
  auto make_parent = [](const std::string& path) {
    auto parent = std::filesystem::path(path).parent_path();
    if (path != "-" && !parent.empty()) std::filesystem::create_directories(parent);
  };
  if (!c.sinks.jsonl.empty()) {
    make_parent(c.sinks.jsonl);
    pipeline.add_sink(make_jsonl_sink(c.sinks.jsonl, c.mode == Mode::Realtime));
  }
  if (!c.sinks.events.empty()) {
    make_parent(c.sinks.events);
    pipeline.add_sink(make_events_sink(c.sinks.events, c.mode == Mode::Realtime));
  }
  if (!c.sinks.mot.empty()) {
    make_parent(c.sinks.mot);
    pipeline.add_sink(make_mot_sink(c.sinks.mot));
  }
  if (!c.sinks.video.empty()) {
    make_parent(c.sinks.video);
    // Nominal rate only: frames are encoded at their own media time.
    pipeline.add_sink(make_video_sink(c.sinks.video, 25.0, c.streams.size() > 1));
  }
  if (!c.sinks.db.empty()) {
    StoreSinkOptions options;
    options.retention = c.sinks.retention;
    options.archive_dir = c.sinks.archive_dir;
    options.archive = c.sinks.archive;
    options.on_commit = [&metrics = pipeline.metrics()](size_t added, size_t, double seconds) {
      metrics.store_commit(added, seconds);
    };
    pipeline.add_sink(make_store_sink(open_store(c.sinks.db), std::move(options)));
  }
  if (const auto& w = c.sinks.webhook; !w.url.empty()) {
    WebhookOptions options;
    options.url = w.url;
    options.only_changes = w.only_changes;
    options.queue_capacity = w.queue;
    options.dead_letter_path = w.dead_letter;
    options.timeout_s = w.timeout;
    options.max_retry_seconds = w.max_retry_seconds;
    auto sink = make_webhook_sink(std::move(options));
    pipeline.metrics().set_webhook_stats([sink] { return sink->stats(); });
    pipeline.add_sink(sink);
  }
}

}  // namespace sf
