#pragma once
// Decoders turn a network's raw output tensors into detections or class scores. They are pure functions
// of the tensors (no OpenCV Net involved), so each is tested on hand-made tensors.
//
// Every detection decoder returns boxes in *network-input pixels* (the prepared image the network saw);
// InputTransform (preprocess.hpp) maps them back to source pixels. Labels are left empty: the model fills
// them from its class list.
#include <opencv2/core/mat.hpp>
#include <vector>

#include "sightflow/detection.hpp"

namespace sf {

// YOLOX head without the decode in the graph: `rows` is [A, 5 + C] (or [1, A, 5 + C]) with columns
// tx, ty, tw, th, objectness, C class scores (objectness and classes already sigmoid-ed). Rows are the
// grid cells of each stride in turn (row-major: y then x), for a square or rectangular `input`:
//   cx = (tx + gx) * s, cy = (ty + gy) * s, w = exp(tw) * s, h = exp(th) * s, score = obj * cls.
// Keeps the best class per row when its score >= score_threshold. Throws std::invalid_argument when the
// row count does not match the strides and input size.
std::vector<Detection> decode_yolox(const cv::Mat& rows, cv::Size input, const std::vector<int>& strides,
                                    float score_threshold);

// Darknet YOLO layers as OpenCV's Darknet importer (Region layer) emits them, for YOLOv2/v3/v4 and
// Yolo-Fastest alike: each output is [R, 5 + C] (or [1, R, 5 + C]) with cx, cy, w, h normalised to the
// network input, objectness, then C class scores. OpenCV has already multiplied the class scores by the
// objectness (scores_include_objectness = true); exporters that leave them raw set it false and the
// decoder multiplies. Keeps the best class per row when its score >= score_threshold.
std::vector<Detection> decode_darknet_yolo(const std::vector<cv::Mat>& outputs, cv::Size input,
                                           float score_threshold, bool scores_include_objectness = true);

// SSD DetectionOutput: [1, 1, K, 7] rows of image_id, class_id, score, x1, y1, x2, y2 (normalised to the
// input). Keeps rows of `image_index` scoring >= score_threshold; class_id is shifted by -class_offset
// (1 when class 0 is the background, as in the res10 face model) so that it indexes the class list.
std::vector<Detection> decode_ssd(const cv::Mat& detection_out, int image_index, cv::Size input,
                                  float score_threshold, int class_offset = 1);

// Classification: `scores` holds C logits or probabilities for one image ([C], [1, C] or [1, C, 1, 1]).
// With apply_softmax the scores are turned into probabilities first. Returns the top_k classes, best first.
std::vector<Classification> decode_classification(const cv::Mat& scores, int top_k, bool apply_softmax);

// YuNet faces as cv::FaceDetectorYN::detect returns them: N x 15 CV_32F rows of x, y, w, h, five
// landmarks (right eye, left eye, nose tip, right and left mouth corners) as x, y pairs, then the score.
// Keeps rows scoring >= score_threshold; class_id 0.
std::vector<Detection> decode_yunet(const cv::Mat& faces, float score_threshold);

// Non-maximum suppression per class (boxes of different classes never suppress each other unless
// class_agnostic), highest scores first; at most max_detections are kept (0: no limit).
std::vector<Detection> non_max_suppression(std::vector<Detection> detections, float iou_threshold,
                                           bool class_agnostic = false, size_t max_detections = 0);

}  // namespace sf
