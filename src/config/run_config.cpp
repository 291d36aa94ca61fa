#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "common/yaml_reader.hpp"
#include "sightflow/config.hpp"
#include "sightflow/model_pool.hpp"

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
  try {
    validate(o);
  } catch (const SourceOptionError& e) {
    r.fail(Reader::present(node, e.key()) ? node[e.key()] : node, field + "." + e.key(), e.what());
  }
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
    if (used == text.size() && std::isfinite(number)) return number;  // "nan", "inf": text, refused later
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

// Keys written beside a sink's own key that belong to its options: today's `db:` with `retention:` and
// `archive:` next to it (docs/CONFIG.md).
const std::map<std::string, std::string> kBesideKeys = {{"retention", "db"}, {"archive", "db"}};

// The node a sink option error points at, and its field name: inside the sink's own node, else beside
// it under `sinks:`; as deep as the key's path exists.
std::pair<YAML::Node, std::string> locate_option(const YAML::Node& sinks, const std::string& type,
                                                 const std::string& key) {
  std::vector<std::string> path;
  for (size_t start = 0; !key.empty() && start <= key.size();) {
    size_t dot = std::min(key.find('.', start), key.size());
    path.push_back(key.substr(start, dot - start));
    start = dot + 1;
  }
  const YAML::Node own = sinks[type];
  bool beside = !path.empty() && kBesideKeys.count(path[0]) && !(own.IsMap() && own[path[0]].IsDefined());
  YAML::Node node = beside ? YAML::Node(sinks) : YAML::Node(own);
  std::string field = beside ? "sinks" : "sinks." + type;
  bool found = true;
  for (const auto& part : path) {
    field += "." + part;
    if (found && node.IsMap()) {
      const YAML::Node child = std::as_const(node)[part];
      if (child.IsDefined()) {
        node.reset(child);  // rebinds (operator= would write into the document)
        continue;
      }
    }
    found = false;
  }
  return {node, field};
}

// `sinks:`: each key a registered sink (docs/CONFIG.md); its node becomes the sink's options as JSON and
// is read by the sink's own reader now, so a bad option fails with its line before anything runs.
SinkConfig read_sinks(const Reader& r, const YAML::Node& sinks) {
  if (!sinks.IsMap()) r.fail(sinks, "sinks", "expected a mapping of sink: options");
  auto types = sink_types();
  std::set<std::string> allowed(types.begin(), types.end());
  for (const auto& [key, owner] : kBesideKeys) allowed.insert(key);
  r.only_keys(sinks, "sinks", allowed);
  SinkConfig c;
  for (const auto& kv : sinks) {
    auto type = kv.first.as<std::string>();
    const YAML::Node node = kv.second;
    if (kBesideKeys.count(type) || node.IsNull() || (node.IsScalar() && node.Scalar().empty())) continue;
    SinkSpec spec{type, to_json_value(node)};
    for (const auto& [key, owner] : kBesideKeys) {
      const YAML::Node beside = sinks[key];
      if (owner != type || !beside.IsDefined() || beside.IsNull()) continue;
      if (!spec.options.is_object()) spec.options = {{"path", spec.options}};
      if (spec.options.contains(key))
        r.fail(beside, "sinks." + key, "given twice (beside and inside " + type + ")");
      spec.options[key] = to_json_value(beside);
    }
    try {
      check_sink_options(spec);
    } catch (const SinkOptionError& e) {
      auto [where, field] = locate_option(sinks, type, e.key());
      r.fail(where, field, e.what());
    }
    c.specs.push_back(std::move(spec));
  }
  for (const auto& [key, owner] : kBesideKeys) {
    if (Reader::present(sinks, key) && !c.find(owner))
      r.fail(sinks[key], "sinks." + key,
             key == "archive" ? "a frame archive needs a results store (sinks.db / --db) to index its files"
                              : "belongs to sinks." + owner + ", which is missing");
  }
  return c;
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
  r.check_document(root);
  if (!root.IsMap()) throw ConfigError(origin + ": expected a mapping with streams and algorithms");
  r.only_keys(root, "",
              {"mode", "max_frames", "stats_interval", "max_pixels", "streams", "algorithms", "sinks"});
  RunConfig c;
  try {
    c.mode = parse_mode(r.get<std::string>(root, "mode", "config", "offline"));
  } catch (const std::invalid_argument& e) {
    r.fail(root["mode"], "mode", e.what());
  }
  c.max_frames = r.get<int64_t>(root, "max_frames", "config", -1);
  c.stats_interval = r.get<double>(root, "stats_interval", "config", c.stats_interval);
  c.max_pixels = r.get<int64_t>(root, "max_pixels", "config", 0);
  if (root["max_pixels"].IsDefined() && c.max_pixels < 1)
    r.fail(root["max_pixels"], "max_pixels", "must be positive");
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
  if (auto sinks = root["sinks"]; sinks.IsDefined() && !sinks.IsNull()) c.sinks = read_sinks(r, sinks);
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
  Reader r(origin);
  r.check_document(node);
  return read_algorithm(r, node, "algorithm", 0);
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
  for (const auto& spec : c.sinks.specs) {
    try {
      check_sink_options(spec);
    } catch (const SinkOptionError& e) {
      throw ConfigError("sinks." + spec.type + (e.key().empty() ? "" : "." + e.key()) + ": " + e.what());
    } catch (const std::invalid_argument& e) {
      throw ConfigError(std::string("sinks: ") + e.what());
    }
  }
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
  SinkContext context{c.mode == Mode::Realtime, c.streams.size()};
  for (const auto& spec : c.sinks.specs) {
    try {
      pipeline.add_sink(create_sink(spec, context));
    } catch (const SinkOptionError& e) {
      throw ConfigError("sinks." + spec.type + (e.key().empty() ? "" : "." + e.key()) + ": " + e.what());
    }
  }
}

}  // namespace sf
