#include "draw/annotate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <opencv2/imgproc.hpp>

#include "common/stable_hash.hpp"

namespace sf {
namespace {

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

// Well separated, bright colours (BGR). A palette instead of a hashed hue: neighbouring hues look alike.
const cv::Scalar kPalette[] = {
    {56, 56, 255},  {151, 157, 255}, {31, 112, 255}, {29, 178, 255},  {49, 210, 207},
    {10, 249, 72},  {23, 204, 146},  {134, 219, 61}, {52, 147, 26},   {187, 212, 0},
    {168, 153, 44}, {255, 194, 0},   {147, 69, 52},  {255, 115, 100}, {236, 24, 0},
    {255, 56, 132}, {133, 0, 82},    {255, 56, 203}, {200, 149, 255}, {199, 55, 255},
};

cv::Scalar text_color_on(const cv::Scalar& bg) {
  double luma = 0.114 * bg[0] + 0.587 * bg[1] + 0.299 * bg[2];
  return luma > 140 ? cv::Scalar(0, 0, 0) : cv::Scalar(255, 255, 255);
}

// Keeps absurd coordinates (a diverging tracker) from overflowing int; drawing clips the rest.
int clamp_coord(float v, int extent) {
  return static_cast<int>(std::lround(std::clamp(v, -2.0f * extent, 3.0f * extent)));
}

std::vector<cv::Point> pixel_points(const std::vector<cv::Point2f>& points, int W, int H) {
  std::vector<cv::Point> out;
  for (const auto& p : points) out.emplace_back(clamp_coord(p.x, W), clamp_coord(p.y, H));
  return out;
}

void draw_caption(cv::Mat& image, const std::string& text, cv::Point at, const cv::Scalar& color,
                  double font_scale, int font_thick, int pad) {
  if (text.empty()) return;
  int baseline = 0;
  cv::Size ts = cv::getTextSize(text, kFont, font_scale, font_thick, &baseline);
  const int lw = ts.width + 2 * pad, lh = ts.height + baseline + 2 * pad;
  const int x = std::clamp(at.x, 0, std::max(0, image.cols - lw));
  const int y = std::clamp(at.y - lh, 0, std::max(0, image.rows - lh));
  cv::rectangle(image, cv::Rect(x, y, lw, lh), color, cv::FILLED);
  cv::putText(image, text, cv::Point(x + pad, y + pad + ts.height), kFont, font_scale, text_color_on(color),
              font_thick, cv::LINE_AA);
}

void draw_shapes(cv::Mat& image, const std::vector<AnnotationShape>& shapes, int line, double font_scale,
                 int font_thick, int pad) {
  const int W = image.cols, H = image.rows;
  // Zone fills first, in one blend: the video stays visible through them.
  cv::Mat filled;
  for (const auto& s : shapes) {
    if (!s.zone || s.points.size() < 3) continue;
    if (filled.empty()) filled = image.clone();
    cv::fillPoly(filled, std::vector<std::vector<cv::Point>>{pixel_points(s.points, W, H)},
                 label_color(s.name), cv::LINE_AA);
  }
  if (!filled.empty()) cv::addWeighted(filled, 0.25, image, 0.75, 0, image);
  for (const auto& s : shapes) {
    const auto points = pixel_points(s.points, W, H);
    const cv::Scalar color = label_color(s.name);
    if (s.zone && points.size() >= 3) {
      cv::polylines(image, points, true, color, line, cv::LINE_AA);
    } else if (!s.zone && points.size() == 2) {
      cv::line(image, points[0], points[1], color, line + 1, cv::LINE_AA);
      // The `in` side: c > 0, i.e. the normal (-dy, dx) of A->B in image coordinates (y down).
      const cv::Point2f a = s.points[0], b = s.points[1], d = b - a;
      const float length = std::hypot(d.x, d.y);
      if (length > 0) {
        const cv::Point2f mid = (a + b) * 0.5f, normal(-d.y / length, d.x / length);
        const float arrow = std::max(12.f, float(std::min(W, H)) / 20.f);
        cv::arrowedLine(image, pixel_points({mid}, W, H)[0], pixel_points({mid + normal * arrow}, W, H)[0],
                        color, line + 1, cv::LINE_AA, 0, 0.35);
      }
    } else {
      continue;
    }
    // A line's caption sits at A; a zone's at the mean of its corners, clear of the overlay panel that
    // covers the top-left corner, where a zone drawn over the whole frame begins.
    cv::Point at = points[0];
    if (s.zone) {
      cv::Point2f mean(0, 0);
      for (const auto& p : s.points) mean += p;
      at = pixel_points({mean / float(s.points.size())}, W, H)[0];
    }
    draw_caption(image, s.caption, at, color, font_scale, font_thick, pad);
  }
}

}  // namespace

cv::Scalar label_color(const std::string& label) {
  return kPalette[stable_hash(label) % (sizeof(kPalette) / sizeof(kPalette[0]))];
}

void draw_annotations(cv::Mat& image, const std::vector<AnnotationBox>& boxes,
                      const std::vector<std::string>& overlay_lines,
                      const std::vector<AnnotationShape>& shapes) {
  if (image.empty()) return;
  const int W = image.cols, H = image.rows;
  // Sizes follow the image so that 320x240 and 1920x1080 both stay readable.
  const int min_dim = std::min(W, H);
  const int line = std::max(1, static_cast<int>(std::lround(min_dim / 300.0)));
  const double font_scale = std::clamp(min_dim / 1000.0, 0.4, 2.0);
  const int font_thick = std::max(1, static_cast<int>(std::lround(font_scale * 1.5)));
  const int pad = std::max(2, line);

  draw_shapes(image, shapes, line, font_scale, font_thick, pad);

  struct Placed {
    cv::Point tl, br;
    cv::Scalar color;
    const AnnotationBox* box;
  };
  std::vector<Placed> placed;
  placed.reserve(boxes.size());
  for (const auto& b : boxes) {
    if (!std::isfinite(b.box.x) || !std::isfinite(b.box.y) || !std::isfinite(b.box.width) ||
        !std::isfinite(b.box.height))
      continue;
    cv::Point tl(clamp_coord(b.box.x, W), clamp_coord(b.box.y, H));
    cv::Point br(clamp_coord(b.box.x + b.box.width, W), clamp_coord(b.box.y + b.box.height, H));
    placed.push_back({tl, br, label_color(b.label), &b});
  }
  // All rectangles first, then all labels: a neighbour's border never cuts through a label.
  for (const auto& p : placed) cv::rectangle(image, p.tl, p.br, p.color, line, cv::LINE_AA);

  for (const auto& p : placed) {
    std::string text = p.box->label;
    if (p.box->track_id) text = "#" + std::to_string(*p.box->track_id) + (text.empty() ? "" : " " + text);
    if (p.box->score >= 0) {
      char score[32];
      std::snprintf(score, sizeof(score), "%.2f", static_cast<double>(p.box->score));
      text += text.empty() ? score : std::string(" ") + score;
    }
    if (text.empty()) continue;
    int baseline = 0;
    cv::Size ts = cv::getTextSize(text, kFont, font_scale, font_thick, &baseline);
    const int lw = ts.width + 2 * pad, lh = ts.height + baseline + 2 * pad;
    int x = std::min(p.tl.x, p.br.x), top = std::min(p.tl.y, p.br.y);
    int y = top - lh;
    if (y < 0) y = top;  // no room above: inside the box, under its top edge
    x = std::clamp(x, 0, std::max(0, W - lw));
    y = std::clamp(y, 0, std::max(0, H - lh));
    cv::rectangle(image, cv::Rect(x, y, lw, lh), p.color, cv::FILLED);
    cv::putText(image, text, cv::Point(x + pad, y + pad + ts.height), kFont, font_scale,
                text_color_on(p.color), font_thick, cv::LINE_AA);
  }

  if (overlay_lines.empty()) return;
  int baseline = 0, max_w = 0, text_h = 0;
  for (const auto& l : overlay_lines) {
    cv::Size ts = cv::getTextSize(l, kFont, font_scale, font_thick, &baseline);
    max_w = std::max(max_w, ts.width);
    text_h = std::max(text_h, ts.height);
  }
  const int row_h = text_h + baseline + pad;
  const int margin = pad;
  cv::Rect panel(margin, margin, max_w + 2 * pad, static_cast<int>(overlay_lines.size()) * row_h + pad);
  panel &= cv::Rect(0, 0, W, H);
  if (!panel.empty()) {
    cv::Mat roi = image(panel);
    roi.convertTo(roi, -1, 0.4);  // blend towards black: the video stays visible behind the text
  }
  for (size_t i = 0; i < overlay_lines.size(); ++i) {
    cv::Point org(margin + pad, margin + pad + static_cast<int>(i) * row_h + text_h);
    cv::putText(image, overlay_lines[i], org, kFont, font_scale, cv::Scalar(255, 255, 255), font_thick,
                cv::LINE_AA);
  }
}

void add_annotation_boxes(std::vector<AnnotationBox>& boxes, const std::vector<Detection>& detections) {
  for (const auto& d : detections) boxes.push_back({d.box, d.label, d.score, d.track_id});
}

std::vector<AnnotationShape> analytics_shapes(const Result& r) {
  std::vector<AnnotationShape> out;
  auto geometry = r.analytics.find("geometry");
  if (geometry == r.analytics.end() || !geometry->is_object()) return out;
  auto counts = [&](const char* key, const std::string& name) {
    auto group = r.analytics.find(key);
    if (group == r.analytics.end() || !group->is_object() || !group->contains(name)) return nlohmann::json();
    return group->at(name);
  };
  for (const char* kind : {"zones", "lines"}) {
    auto shapes = geometry->find(kind);
    if (shapes == geometry->end() || !shapes->is_object()) continue;
    for (const auto& [name, coordinates] : shapes->items()) {
      AnnotationShape shape;
      shape.zone = std::string(kind) == "zones";
      shape.name = name;
      if (!coordinates.is_array()) continue;
      for (size_t i = 0; i + 1 < coordinates.size(); i += 2)
        if (coordinates[i].is_number() && coordinates[i + 1].is_number())
          shape.points.emplace_back(coordinates[i].get<float>(), coordinates[i + 1].get<float>());
      auto c = counts(kind, name);
      shape.caption = name;
      if (c.is_object() && shape.zone) shape.caption += " " + std::to_string(c.value("count", 0));
      if (c.is_object() && !shape.zone)
        shape.caption +=
            " in " + std::to_string(c.value("in", 0)) + " out " + std::to_string(c.value("out", 0));
      out.push_back(std::move(shape));
    }
  }
  return out;
}

std::vector<std::string> analytics_lines(const Result& r) {
  std::vector<std::string> out;
  if (auto lines = r.analytics.find("lines"); lines != r.analytics.end() && lines->is_object())
    for (const auto& [name, c] : lines->items())
      out.push_back(name + ": in " + std::to_string(c.value("in", 0)) + " out " +
                    std::to_string(c.value("out", 0)));
  if (auto zones = r.analytics.find("zones"); zones != r.analytics.end() && zones->is_object())
    for (const auto& [name, z] : zones->items())
      out.push_back(name + ": " + std::to_string(z.value("count", 0)) + " inside");
  return out;
}

}  // namespace sf
