// The sink registry: a key under `sinks:` -> its options -> a Sink. Built-in sinks are one line each.
#include <filesystem>
#include <map>
#include <mutex>

#include "sightflow/sink.hpp"
#include "sightflow/sink_options.hpp"
#include "sightflow/store.hpp"
#include "sink/mqtt_sink.hpp"
#include "sink/video_sink_options.hpp"
#include "sink/webhook_sink.hpp"
#include "store/store_sink_options.hpp"

namespace sf {
namespace {

struct SinkType {
  SinkFactory create;
  SinkOptionsCheck check;
};

// A sink with a typed options reader: the reader checks at read time and feeds the maker at build time.
template <typename Options>
SinkType typed(Options (*read)(const nlohmann::json&),
               std::function<std::shared_ptr<Sink>(Options, const SinkContext&)> make) {
  return {[read, make](const nlohmann::json& options, const SinkContext& context) {
            return make(read(options), context);
          },
          [read](const nlohmann::json& options) { read(options); }};
}

// `PATH` or {path: PATH}: the file sinks' options. Their folder is created when the sink is built.
std::string read_path(const nlohmann::json& options) {
  SinkOptionReader r(options, "path");
  r.only_keys({"path"});
  auto path = r.required_text("path", "a file");
  return path;
}

void create_parent_folder(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  if (path != "-" && !parent.empty()) std::filesystem::create_directories(parent);
}

SinkType file_sink(std::function<std::shared_ptr<Sink>(const std::string& path, const SinkContext&)> make) {
  return typed<std::string>(read_path, [make](std::string path, const SinkContext& context) {
    create_parent_folder(path);
    return make(path, context);
  });
}

// The built-in sinks: one line each.
std::map<std::string, SinkType> built_in_sinks() {
  using Context = const SinkContext&;
  return {
      {"jsonl", file_sink([](const std::string& p, Context c) { return make_jsonl_sink(p, c.realtime); })},
      {"events", file_sink([](const std::string& p, Context c) { return make_events_sink(p, c.realtime); })},
      {"mot", file_sink([](const std::string& p, Context) { return make_mot_sink(p); })},
      {"video", typed<VideoSinkOptions>(read_video_sink_options,
                                        [](VideoSinkOptions v, Context c) -> std::shared_ptr<Sink> {
                                          create_parent_folder(v.path);
                                          return make_video_sink(v, c.streams > 1);
                                        })},
      {"db", typed<StoreSinkConfig>(read_store_sink_options,
                                    [](StoreSinkConfig s, Context c) -> std::shared_ptr<Sink> {
                                      // Offline, capture time follows the processing speed: a stream's
                                      // series read best on its media clock.
                                      s.options.stream_clock = c.realtime ? "wall" : "media";
                                      return make_store_sink(open_store(s.location), std::move(s.options));
                                    })},
      {"webhook", typed<WebhookOptions>(read_webhook_options,
                                        [](WebhookOptions w, Context) -> std::shared_ptr<Sink> {
                                          return make_webhook_sink(std::move(w));
                                        })},
      {"mqtt", typed<MqttSinkOptions>(read_mqtt_options,
                                      [](MqttSinkOptions m, Context) -> std::shared_ptr<Sink> {
                                        return make_mqtt_sink(std::move(m));
                                      })},
  };
}

struct Registry {
  std::mutex mutex;
  std::map<std::string, SinkType> types = built_in_sinks();
};

Registry& registry() {
  static Registry r;
  return r;
}

SinkType find(const std::string& type) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.types.find(type);
  if (it == r.types.end()) {
    std::string known;
    for (const auto& [name, t] : r.types) known += (known.empty() ? "" : ", ") + name;
    throw std::invalid_argument("unknown sink '" + type + "' (known: " + known + ")");
  }
  return it->second;
}

}  // namespace

void register_sink(const std::string& type, SinkFactory factory, SinkOptionsCheck check) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  r.types[type] = {std::move(factory), std::move(check)};
}

std::vector<std::string> sink_types() {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> types;
  for (const auto& [type, t] : r.types) types.push_back(type);
  return types;
}

void check_sink_options(const SinkSpec& spec) {
  auto type = find(spec.type);
  if (type.check) type.check(spec.options);
}

std::shared_ptr<Sink> create_sink(const SinkSpec& spec, const SinkContext& context) {
  return find(spec.type).create(spec.options, context);
}

}  // namespace sf
