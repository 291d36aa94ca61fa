#pragma once
// Draws detections and a short status overlay onto a frame (for the annotated video, MJPEG and snapshots).
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sightflow/result.hpp"

namespace sf {

struct AnnotationBox {
  cv::Rect2f box;                                  // pixels, in the image's coordinates
  std::string label;                               // class name; also picks the colour
  float score = 0;                                 // shown with two decimals; a negative score is not shown
  std::optional<int64_t> track_id = std::nullopt;  // shown as "#12" before the label
};

// A counting line or zone as the stages publish it (analytics "geometry"), with its counter as caption.
struct AnnotationShape {
  std::vector<cv::Point2f> points;  // a line: A, B; a zone: the polygon
  bool zone = false;
  std::string name;     // picks the colour
  std::string caption;  // "door in 7 out 5", "lawn 3"
};

// The boxes to draw for a result's detections: every annotating output (video, live view, archive) uses
// this, so they show the same thing.
void add_annotation_boxes(std::vector<AnnotationBox>& boxes, const std::vector<Detection>& detections);
// Overlay lines for what stages counted: "door: in 7 out 5", "lawn: 3 inside".
std::vector<std::string> analytics_lines(const Result& result);

// The lines and zones of a result: their geometry from analytics["geometry"] ({"lines": {"door": [x1,y1,
// x2,y2]}, "zones": {"lawn": [x1,y1,...]}}, published by the lines and zones stages), their counts from
// analytics["lines"] and ["zones"]. Empty when no counting stage ran.
std::vector<AnnotationShape> analytics_shapes(const Result& result);

// Each box: a rectangle in the label's colour (a hash of the label, so a class keeps its colour across frames
// and runs) and "label 0.87" on a filled background above it, moved inside the image when it would leave it.
// The overlay lines go top-left on a semi-transparent dark panel. Line width and text size follow the image
// size. Works on 8-bit BGR images (grey images get grey levels); an empty image is left alone.
// Shapes go under the boxes: a zone as a translucent polygon with its outline, captioned at its middle, a
// line as a segment with an arrow from its middle towards its `in` side, captioned at its first point.
void draw_annotations(cv::Mat& image, const std::vector<AnnotationBox>& boxes,
                      const std::vector<std::string>& overlay_lines,
                      const std::vector<AnnotationShape>& shapes = {});

// The colour draw_annotations uses for `label` (BGR).
cv::Scalar label_color(const std::string& label);

}  // namespace sf
