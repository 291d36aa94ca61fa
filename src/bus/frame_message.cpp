#include "bus/frame_message.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "bus/spill_file.hpp"
#include "media/image_probe.hpp"
#include "media/jpeg_codec.hpp"

namespace sf {

namespace {

std::string format_seconds(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.6f", value);
  return text;
}

const std::string& required(const StreamEntry& entry, const std::string& name) {
  const auto* value = entry.field(name);
  if (!value) throw FrameMessageError("missing field '" + name + "'");
  return *value;
}

template <typename Number, typename Parse>
Number parse_field(const StreamEntry& entry, const std::string& name, Parse parse) {
  const auto& text = required(entry, name);
  size_t used = 0;
  Number value{};
  try {
    value = parse(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size())
    throw FrameMessageError("field '" + name + "' is not a number: '" + text.substr(0, 40) + "'");
  return value;
}

int64_t integer_field(const StreamEntry& entry, const std::string& name) {
  return parse_field<int64_t>(entry, name,
                              [](const std::string& t, size_t* used) { return std::stoll(t, used); });
}

double real_field(const StreamEntry& entry, const std::string& name) {
  double value =
      parse_field<double>(entry, name, [](const std::string& t, size_t* used) { return std::stod(t, used); });
  if (!std::isfinite(value)) throw FrameMessageError("field '" + name + "' is not finite");
  return value;
}

// The JPEG's size from its header, checked against the message before a pixel is decoded.
void check_jpeg_header(const unsigned char* data, size_t size, int64_t width, int64_t height) {
  ImageHeader header;
  try {
    header = probe_image(data, size);
  } catch (const ImageError& e) {
    throw FrameMessageError(std::string("JPEG: ") + e.what());
  }
  if (header.format != "JPEG")
    throw FrameMessageError("the image is a " + std::string(header.format) + ", not a JPEG");
  if (header.width != width || header.height != height)
    throw FrameMessageError("the JPEG is " + std::to_string(header.width) + "x" +
                            std::to_string(header.height) + " but the message says " + std::to_string(width) +
                            "x" + std::to_string(height));
}

}  // namespace

FrameMessage encode_frame_message(const Frame& frame, const FrameMessageOptions& options) {
  FrameMessage message;
  auto jpeg = encode_jpeg(frame.image, options.jpeg_quality);
  message.jpeg_bytes = jpeg.size();
  message.fields = {{"seq", std::to_string(frame.seq)},           {"pts", format_seconds(frame.pts)},
                    {"ts", format_seconds(frame.wall_ts)},        {"width", std::to_string(frame.image.cols)},
                    {"height", std::to_string(frame.image.rows)}, {"enc", "jpeg"}};
  if (jpeg.size() <= options.max_inline_bytes) {
    message.fields.emplace_back("data", std::string(jpeg.begin(), jpeg.end()));
    return message;
  }
  namespace fs = std::filesystem;
  auto folder = fs::absolute(fs::path(options.spill_dir) / frame.stream);
  fs::create_directories(folder);
  auto name =
      std::to_string(int64_t(std::llround(frame.wall_ts * 1000))) + "-" + std::to_string(frame.seq) + ".jpg";
  auto path = folder / name, partial = folder / (name + ".part");
  {
    std::ofstream out(partial, std::ios::binary);
    out.write(reinterpret_cast<const char*>(jpeg.data()), std::streamsize(jpeg.size()));
    if (!out.flush()) throw std::runtime_error("cannot write frame file " + partial.string());
  }
  fs::rename(partial, path);
  message.spilled_path = path.string();
  message.fields.emplace_back("path", message.spilled_path);
  return message;
}

Frame decode_frame_message(const std::string& stream, const StreamEntry& entry,
                           const FrameDecodeOptions& options) {
  if (entry.deleted) throw FrameMessageError("the entry was trimmed from the stream before it was read");
  Frame frame;
  frame.stream = stream;
  frame.seq = integer_field(entry, "seq");
  if (frame.seq < 0) throw FrameMessageError("field 'seq' is negative");
  frame.pts = real_field(entry, "pts");
  frame.wall_ts = real_field(entry, "ts");
  auto width = integer_field(entry, "width"), height = integer_field(entry, "height");
  if (width <= 0 || height <= 0 || width > 65535 || height > 65535)
    throw FrameMessageError("bad frame size " + std::to_string(width) + "x" + std::to_string(height));
  if (auto problem = image_size_problem(width, height)) throw FrameMessageError("frame size " + *problem);
  const auto& enc = required(entry, "enc");
  if (enc != "jpeg") throw FrameMessageError("encoding '" + enc.substr(0, 40) + "' is not supported (jpeg)");
  if (const auto* data = entry.field("data")) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(data->data());
    check_jpeg_header(bytes, data->size(), width, height);
    try {
      frame.image = decode_jpeg(bytes, data->size());
    } catch (const JpegError& e) {
      throw FrameMessageError(std::string("JPEG: ") + e.what());
    }
  } else if (const auto* path = entry.field("path")) {
    std::vector<unsigned char> bytes;
    try {
      bytes = read_spilled_file(*path, options.spill_dir, options.max_spill_bytes);
    } catch (const SpillFileError& e) {
      throw FrameMessageError(std::string("path: ") + e.what());
    }
    check_jpeg_header(bytes.data(), bytes.size(), width, height);
    try {
      frame.image = decode_jpeg(bytes);
    } catch (const JpegError&) {
      // libjpeg's message may quote the file's bytes ("starts with 0x.."): the reason says only what failed.
      throw FrameMessageError("path: " + *path + " is a truncated or corrupt JPEG");
    }
  } else {
    throw FrameMessageError("neither 'data' nor 'path' is present");
  }
  return frame;
}

}  // namespace sf
