#include "media/image_probe.hpp"

#include <png.h>
#include <tiffio.h>
#include <turbojpeg.h>
#include <webp/decode.h>

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <cstring>
#include <memory>

namespace sf {
namespace {

std::atomic<int64_t> g_max_image_pixels{kDefaultMaxImagePixels};

bool starts_with(const unsigned char* data, size_t size, std::string_view magic, size_t offset = 0) {
  return size >= offset + magic.size() && std::memcmp(data + offset, magic.data(), magic.size()) == 0;
}

ImageError damaged(std::string_view format) {
  return ImageError("not a complete " + std::string(format) + " header");
}

ImageHeader probe_jpeg(const unsigned char* data, size_t size) {
  std::unique_ptr<void, int (*)(tjhandle)> handle(tjInitDecompress(), tjDestroy);
  if (!handle) throw ImageError(std::string("cannot initialise TurboJPEG: ") + tjGetErrorStr2(nullptr));
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  // libjpeg's message may quote the first bytes ("starts with 0x.."): it is not passed on.
  if (tjDecompressHeader3(handle.get(), data, static_cast<unsigned long>(size), &width, &height, &subsampling,
                          &colorspace) != 0 ||
      width <= 0 || height <= 0)  // it may succeed without having found a frame header
    throw damaged("JPEG");
  return {"JPEG", width, height};
}

// libpng's simplified API reads the chunks up to the first IDAT, never the image data.
ImageHeader probe_png(const unsigned char* data, size_t size) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  const bool ok = png_image_begin_read_from_memory(&image, data, size) != 0;
  ImageHeader header{"PNG", image.width, image.height};
  png_image_free(&image);
  if (!ok) throw damaged("PNG");
  return header;
}

ImageHeader probe_webp(const unsigned char* data, size_t size) {
  int width = 0, height = 0;
  if (!WebPGetInfo(data, size, &width, &height)) throw damaged("WebP");
  return {"WebP", width, height};
}

// libtiff reads from memory through these callbacks; its messages are silenced (they would go to stderr).
struct MemoryFile {
  const unsigned char* data;
  toff_t size, position = 0;
};

tmsize_t memory_read(thandle_t handle, void* buffer, tmsize_t count) {
  auto* file = static_cast<MemoryFile*>(handle);
  const auto n =
      std::min<toff_t>(static_cast<toff_t>(std::max<tmsize_t>(count, 0)), file->size - file->position);
  std::memcpy(buffer, file->data + file->position, n);
  file->position += n;
  return static_cast<tmsize_t>(n);
}
tmsize_t memory_write(thandle_t, void*, tmsize_t) { return -1; }
toff_t memory_seek(thandle_t handle, toff_t offset, int whence) {
  auto* file = static_cast<MemoryFile*>(handle);
  const toff_t base = whence == SEEK_CUR ? file->position : whence == SEEK_END ? file->size : 0;
  file->position = std::min(base + offset, file->size);
  return file->position;
}
int memory_close(thandle_t) { return 0; }
toff_t memory_size(thandle_t handle) { return static_cast<MemoryFile*>(handle)->size; }
int no_map(thandle_t, void**, toff_t*) { return 0; }
void no_unmap(thandle_t, void*, toff_t) {}
int silent(TIFF*, void*, const char*, const char*, va_list) { return 1; }

ImageHeader probe_tiff(const unsigned char* data, size_t size) {
  MemoryFile file{data, size};
  std::unique_ptr<TIFFOpenOptions, void (*)(TIFFOpenOptions*)> options(TIFFOpenOptionsAlloc(),
                                                                       TIFFOpenOptionsFree);
  TIFFOpenOptionsSetErrorHandlerExtR(options.get(), silent, nullptr);
  TIFFOpenOptionsSetWarningHandlerExtR(options.get(), silent, nullptr);
  std::unique_ptr<TIFF, void (*)(TIFF*)> tiff(
      TIFFClientOpenExt("image", "rm", &file, memory_read, memory_write, memory_seek, memory_close,
                        memory_size, no_map, no_unmap, options.get()),
      TIFFClose);
  uint32_t width = 0, height = 0;
  if (!tiff || TIFFGetField(tiff.get(), TIFFTAG_IMAGEWIDTH, &width) != 1 ||
      TIFFGetField(tiff.get(), TIFFTAG_IMAGELENGTH, &height) != 1)
    throw damaged("TIFF");
  return {"TIFF", width, height};  // OpenCV decodes the first page, the one read here
}

int64_t little_endian(const unsigned char* p, int bytes) {
  uint32_t value = 0;
  for (int i = bytes - 1; i >= 0; --i) value = value << 8 | p[i];
  return bytes == 4 ? static_cast<int32_t>(value) : static_cast<int64_t>(value);
}

// BITMAPFILEHEADER (14 bytes), then the DIB header: 12 bytes with 16-bit sizes (OS/2), else 32-bit signed
// ones; a negative height means rows top-down.
ImageHeader probe_bmp(const unsigned char* data, size_t size) {
  if (size < 26) throw damaged("BMP");
  const auto dib_size = little_endian(data + 14, 4);
  if (dib_size == 12) return {"BMP", little_endian(data + 18, 2), little_endian(data + 20, 2)};
  if (dib_size < 40) throw damaged("BMP");
  const auto width = little_endian(data + 18, 4), height = little_endian(data + 22, 4);
  if (width <= 0 || height == 0) throw damaged("BMP");
  return {"BMP", width, height < 0 ? -height : height};
}

}  // namespace

int64_t max_image_pixels() { return g_max_image_pixels.load(std::memory_order_relaxed); }

void set_max_image_pixels(int64_t pixels) {
  if (pixels < 1) throw std::invalid_argument("max_pixels must be at least 1, not " + std::to_string(pixels));
  g_max_image_pixels.store(pixels, std::memory_order_relaxed);
}

ImageHeader probe_image(const unsigned char* data, size_t size) {
  if (data == nullptr || size == 0) throw ImageError("empty");
  if (starts_with(data, size, "\xFF\xD8")) return probe_jpeg(data, size);
  if (starts_with(data, size, "\x89PNG\r\n\x1A\n")) return probe_png(data, size);
  if (starts_with(data, size, "RIFF") && starts_with(data, size, "WEBP", 8)) return probe_webp(data, size);
  if (starts_with(data, size, std::string_view("II*\0", 4)) ||
      starts_with(data, size, std::string_view("MM\0*", 4)) ||
      starts_with(data, size, std::string_view("II+\0", 4)) ||
      starts_with(data, size, std::string_view("MM\0+", 4)))
    return probe_tiff(data, size);
  if (starts_with(data, size, "BM")) return probe_bmp(data, size);
  throw ImageError("not a decodable image (JPEG, PNG, BMP, TIFF, WebP)");
}

std::optional<std::string> image_size_problem(int64_t width, int64_t height) {
  const auto limit = max_image_pixels();
  if (width <= 0 || height <= 0)
    return "an image of " + std::to_string(width) + "x" + std::to_string(height) + " has no pixels";
  if (width <= limit / height) return std::nullopt;  // width * height <= limit, without overflow
  return std::to_string(width) + "x" + std::to_string(height) + " is over the limit of " +
         std::to_string(limit) + " pixels (--max-pixels)";
}

std::optional<std::string> image_header_problem(std::string_view bytes) {
  try {
    auto header = probe_image(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    return image_size_problem(header.width, header.height);
  } catch (const ImageError& e) {
    return e.what();
  }
}

}  // namespace sf
