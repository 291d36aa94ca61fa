#include "web/stream_controller.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <set>

#include "http/http_json.hpp"
#include "pipeline/pipeline_metrics.hpp"
#include "sightflow/model_entry_file.hpp"
#include "sightflow/source.hpp"

namespace sf {

struct StreamController::Owned {
  std::unique_ptr<Pipeline> pipeline;  // freed by the watcher once it has ended (reset under mutex_)
  std::thread watcher;
  std::atomic<bool> stop_requested{false};
  bool finished = false;  // the watcher has freed the pipeline and returns (under mutex_)
};

namespace {

HttpError bad_request(const std::string& message) { return HttpError(400, "BadRequestException", message); }

template <typename T>
T field(const nlohmann::json& body, const char* key, T fallback) {
  if (!body.contains(key) || body[key].is_null()) return fallback;
  try {
    return body[key].get<T>();
  } catch (const nlohmann::json::exception&) {
    throw bad_request(std::string("field '") + key + "' has the wrong type: " + body[key].dump());
  }
}

double ms(const StageStat& stat) { return stat.ewma() * 1000.0; }

}  // namespace

StreamStartRequest parse_stream_request(const nlohmann::json& body) {
  if (!body.is_object()) throw bad_request("expected a JSON object with at least \"name\" and \"source\"");
  // The stream's own fields; the rest describes its algorithm, read as a YAML config's algorithm is.
  static const std::set<std::string> stream_fields = {"name", "source", "mode", "loop", "fps"};
  nlohmann::json algorithm = nlohmann::json::object();
  for (const auto& [key, value] : body.items())
    if (!stream_fields.count(key)) algorithm[key] = value;
  // A request must not make the server open files: profiles come from the server's own configuration. A
  // profile stage loads its file as soon as it is read, so it is refused before (its error would tell
  // whether a path exists, and a device would block the request).
  if (const auto stages = algorithm.find("stages"); stages != algorithm.end() && stages->is_array())
    for (const auto& stage : *stages)
      if (stage == "profile" || (stage.is_object() && stage.value("type", nlohmann::json()) == "profile"))
        throw bad_request("a camera profile cannot be given in a request (it names a server file)");
  StreamStartRequest r;
  r.name = field<std::string>(body, "name", "");
  r.source = field<std::string>(body, "source", "");
  if (r.source.empty()) throw bad_request("field 'source' is required (a file, URL or device)");
  if (r.name.empty()) r.name = default_stream_name(r.source);
  for (char c : r.name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      throw bad_request("stream name '" + r.name + "' may hold only letters, digits, '-', '_' and '.'");
  try {
    r.algorithm = parse_algorithm_config(algorithm, "request");
    r.mode = parse_mode(field<std::string>(body, "mode", "realtime"));
  } catch (const std::invalid_argument& e) {
    throw bad_request(e.what());
  } catch (const ConfigError& e) {
    throw bad_request(e.what());
  }
  if (!r.algorithm.streams.empty()) throw bad_request("field 'streams' has no meaning here");
  bool opens_file =
      !r.algorithm.profile.empty() || std::any_of(r.algorithm.stages.begin(), r.algorithm.stages.end(),
                                                  [](const StageSpec& s) { return s.type == "profile"; });
  if (opens_file) throw bad_request("a camera profile cannot be given in a request (it names a server file)");
  r.loop = field<bool>(body, "loop", false);
  r.fps = field<double>(body, "fps", 0.0);
  return r;
}

StreamController::StreamController(LiveView& live, ControllerOptions options)
    : live_(live), options_(std::move(options)), source_policy_(options_.sources) {}

StreamController::~StreamController() {
  std::vector<std::shared_ptr<Owned>> owned;
  {
    std::lock_guard lock(mutex_);
    owned = owned_;
    for (auto& o : owned) {
      o->stop_requested = true;
      if (o->pipeline) o->pipeline->stop();
    }
  }
  join(owned);
}

std::vector<std::shared_ptr<StreamController::Owned>> StreamController::take_finished_locked() {
  std::vector<std::shared_ptr<Owned>> finished;
  auto done = std::stable_partition(owned_.begin(), owned_.end(), [](const auto& o) { return !o->finished; });
  finished.assign(done, owned_.end());
  owned_.erase(done, owned_.end());
  return finished;
}

void StreamController::join(std::vector<std::shared_ptr<Owned>>& finished) {
  // A finished watcher has only its return left, so this waits for no pipeline.
  for (auto& o : finished)
    if (o->watcher.joinable()) o->watcher.join();
  finished.clear();
}

size_t StreamController::held_pipelines() {
  std::vector<std::shared_ptr<Owned>> finished;
  size_t held = 0;
  {
    std::lock_guard lock(mutex_);
    finished = take_finished_locked();
    held = owned_.size();
  }
  join(finished);
  return held;
}

void StreamController::adopt(Pipeline& pipeline, const std::map<std::string, std::string>& sources,
                             Mode mode) {
  std::lock_guard lock(mutex_);
  for (const auto& info : pipeline.streams()) {
    auto source = sources.find(info.name);
    entries_[info.name] = Entry{
        source == sources.end() ? "" : source->second, "running", "", mode, false, &pipeline, nullptr, {}, 0};
  }
}

void StreamController::finished(Pipeline& pipeline, const std::string& error) {
  std::vector<std::string> names;
  {
    std::lock_guard lock(mutex_);
    for (auto& [name, entry] : entries_) {
      if (entry.pipeline != &pipeline) continue;
      entry.state = error.empty() ? "ended" : "failed";
      entry.error = error;
      names.push_back(name);
    }
  }
  for (const auto& name : names) live_.ended(name);
}

nlohmann::ordered_json StreamController::start(const StreamStartRequest& request) {
  // Decided on the request's text before anything is opened or the name is taken.
  std::string source;
  try {
    source = source_policy_.admit(request.source);
  } catch (const SourceNotAllowed& e) {
    throw HttpError(403, "Forbidden", e.what());
  }
  // A model entry file is a path the server would read: the operator's to name, not a caller's.
  if (is_model_entry_file(request.algorithm.detector))
    throw HttpError(403, "Forbidden",
                    "detector not allowed: '" + request.algorithm.detector +
                        "' is a model entry file; from the API, name a catalog or built-in model");
  std::vector<std::shared_ptr<Owned>> finished;
  {
    std::lock_guard lock(mutex_);
    finished = take_finished_locked();
    auto it = entries_.find(request.name);
    if (it != entries_.end() && (it->second.state == "running" || it->second.state == "starting"))
      throw HttpError(409, "Conflict", "stream '" + request.name + "' is already running");
    if (it != entries_.end() && !it->second.controllable)
      throw HttpError(409, "Conflict", "stream name '" + request.name + "' belongs to the running job");
    // A stream of that name still stopping keeps its pipeline in owned_ until its watcher frees it.
    entries_[request.name] =
        Entry{request.source, "starting", "", request.mode, true, nullptr, nullptr, {}, 0};
  }
  join(finished);
  auto owned = std::make_shared<Owned>();
  try {
    RunConfig config;
    config.mode = request.mode;
    StreamConfig stream;
    stream.source = source;
    stream.options.name = request.name;
    stream.options.loop = request.loop;
    stream.options.target_fps = request.fps;
    config.streams.push_back(stream);
    config.algorithms.push_back(request.algorithm);
    config.sinks = options_.sinks;
    validate(config);
    owned->pipeline = std::make_unique<Pipeline>(pipeline_options(config));
    populate(*owned->pipeline, config);
    owned->pipeline->add_sink(live_.make_sink());
    owned->pipeline->start();
  } catch (const std::exception& e) {
    std::lock_guard lock(mutex_);
    entries_.erase(request.name);  // the caller hears why; nothing of it is left to list
    throw bad_request("cannot start stream '" + request.name + "': " + e.what());
  }
  spdlog::info("web: started stream {} <- {} ({})", request.name, request.source, request.algorithm.detector);
  std::lock_guard lock(mutex_);
  auto& entry = entries_[request.name];
  entry.state = "running";
  entry.pipeline = owned->pipeline.get();
  entry.owned = owned;
  owned_.push_back(owned);
  owned->watcher = std::thread([this, owned, name = request.name] { watch(owned, name); });
  return describe_locked(request.name, &entry);
}

void StreamController::watch(std::shared_ptr<Owned> owned, std::string name) {
  std::string error;
  try {
    owned->pipeline->wait();
  } catch (const std::exception& e) {
    error = e.what();
  }
  std::unique_ptr<Pipeline> ended;
  {
    std::lock_guard lock(mutex_);
    if (auto it = entries_.find(name); it != entries_.end() && it->second.owned == owned) {
      auto& entry = it->second;
      entry.state = owned->stop_requested ? "stopped" : error.empty() ? "ended" : "failed";
      entry.error = error;
      entry.last_seen = describe_locked(name, &entry);  // what it did, listed after its pipeline is gone
      entry.pipeline = nullptr;
      entry.owned = nullptr;
      entry.ended_at = steady_now();
      spdlog::info("web: stream {} {}{}", name, entry.state, error.empty() ? "" : ": " + error);
      forget_oldest_ended_locked();
    }
    ended =
        std::move(owned->pipeline);  // nothing reaches it any more: stop() and the lists ask under the lock
  }
  ended.reset();  // its threads are joined (wait() returned): this frees the models, queues and frames
  live_.ended(name);
  std::lock_guard lock(mutex_);
  owned->finished = true;
}

void StreamController::forget_oldest_ended_locked() {
  std::vector<std::pair<double, std::string>> ended;
  for (const auto& [name, entry] : entries_)
    if (entry.controllable && !entry.owned && entry.ended_at > 0) ended.emplace_back(entry.ended_at, name);
  if (ended.size() <= kKeptEnded) return;
  std::sort(ended.begin(), ended.end());
  for (size_t i = 0; i + kKeptEnded < ended.size(); ++i) {
    entries_.erase(ended[i].second);
    live_.forget(ended[i].second);
  }
}

void StreamController::stop(const std::string& name) {
  std::vector<std::shared_ptr<Owned>> finished;
  {
    std::lock_guard lock(mutex_);
    finished = take_finished_locked();
    auto it = entries_.find(name);
    if (it == entries_.end()) throw HttpError(404, "NotFound", "no stream '" + name + "'");
    auto& entry = it->second;
    if (!entry.controllable)
      throw HttpError(409, "Conflict",
                      "stream '" + name + "' was not started from the API; stop its job instead");
    if (entry.state == "starting") throw HttpError(409, "Conflict", "stream '" + name + "' is starting");
    if (entry.owned) {
      // Until the run in flight finishes and the pipeline ends (the watcher then says "stopped").
      if (entry.state == "running") entry.state = "stopping";
      entry.owned->stop_requested = true;
      entry.owned->pipeline->stop();  // returns at once; under the lock, the watcher cannot free it meanwhile
    }
  }
  join(finished);
}

nlohmann::ordered_json StreamController::list() const {
  std::lock_guard lock(mutex_);
  nlohmann::ordered_json streams = nlohmann::ordered_json::array();
  for (const auto& [name, entry] : entries_) streams.push_back(describe_locked(name, &entry));
  for (const auto& name : live_.streams())
    if (!entries_.count(name)) streams.push_back(describe_locked(name, nullptr));
  return streams;
}

nlohmann::ordered_json StreamController::describe(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(name);
  if (it != entries_.end()) return describe_locked(name, &it->second);
  if (live_.has_stream(name)) return describe_locked(name, nullptr);
  throw HttpError(404, "NotFound", "no stream '" + name + "'");
}

nlohmann::ordered_json StreamController::describe_locked(const std::string& name, const Entry* entry) const {
  double now = steady_now();
  nlohmann::ordered_json s{{"name", name},
                           {"source", entry ? entry->source : "redis"},
                           {"state", entry ? entry->state : "remote"},
                           {"error", entry ? entry->error : ""},
                           {"controllable", entry && entry->controllable},
                           {"mode", entry ? to_string(entry->mode) : "realtime"}};
  if (entry && !entry->pipeline && entry->last_seen.is_object()) {
    // An ended stream started here: its figures when it ended.
    auto ended = entry->last_seen;
    for (const char* key : {"state", "error"}) ended[key] = s[key];
    ended["viewers"] = live_.viewers(name);
    return ended;
  }
  nlohmann::ordered_json algorithms = nlohmann::ordered_json::array();
  if (entry && entry->pipeline) {
    auto& metrics = entry->pipeline->metrics();
    double fps = 0;
    for (const auto& info : entry->pipeline->streams())
      if (info.name == name) fps = info.fps;
    auto streams = metrics.streams(now);
    StreamCounters c;
    if (auto it = streams.find(name); it != streams.end()) c = it->second;
    s["fps"] = fps;
    s["frames_read"] = c.frames_read;
    s["in_fps"] = c.in_fps;
    s["reconnects"] = c.reconnects;
    s["read_ms"] = ms(c.read);
    for (const auto& [key, a] : metrics.algorithms(now)) {
      if (key.first != name) continue;
      int count = live_.latest_count(name, key.second);
      algorithms.push_back({{"name", key.second},
                            {"out_fps", a.out_fps},
                            {"runs", a.runs},
                            {"runs_dropped", a.runs_dropped},
                            {"runs_failed", a.runs_failed},
                            {"detections", a.detections},
                            {"count", count < 0 ? nlohmann::ordered_json() : nlohmann::ordered_json(count)},
                            {"queue_depth", a.queue_depth},
                            {"queue_capacity", a.queue_capacity},
                            {"latency_ms",
                             {{"resize", ms(a.resize)},
                              {"model", ms(a.model)},
                              {"post", ms(a.post)},
                              {"sink", ms(a.sink)},
                              {"total", ms(a.total)}}},
                            {"analytics", live_.latest_analytics(name, key.second)},
                            {"events", live_.recent_events(name, key.second)}});
    }
  } else {
    // A remote stream: what the live view saw of it.
    double rate = live_.result_rate(name);
    s["fps"] = rate;
    s["frames_read"] = nullptr;
    s["in_fps"] = rate;
    s["reconnects"] = 0;
    s["read_ms"] = 0;
    for (const auto& algo : live_.history().algorithms(name)) {
      int count = live_.latest_count(name, algo);
      algorithms.push_back({{"name", algo},
                            {"out_fps", nullptr},
                            {"count", count < 0 ? nlohmann::ordered_json() : nlohmann::ordered_json(count)},
                            {"analytics", live_.latest_analytics(name, algo)},
                            {"events", live_.recent_events(name, algo)}});
    }
  }
  s["viewers"] = live_.viewers(name);
  s["algorithms"] = algorithms;
  return s;
}

void StreamController::add_metrics(MetricFamilies& out) const {
  std::lock_guard lock(mutex_);
  std::set<Pipeline*> seen;
  for (const auto& [name, entry] : entries_)
    if (entry.pipeline && seen.insert(entry.pipeline).second)
      add_pipeline_metrics(out, entry.pipeline->metrics(), {{"pipeline", name}});
}

nlohmann::json StreamController::metrics_json() const {
  std::lock_guard lock(mutex_);
  nlohmann::json out = nlohmann::json::object();
  double now = steady_now();
  for (const auto& [name, entry] : entries_)
    if (entry.pipeline) out[name] = entry.pipeline->metrics().to_json(now);
  return out;
}

}  // namespace sf
