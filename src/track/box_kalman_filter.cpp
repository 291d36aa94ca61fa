#include "track/box_kalman_filter.hpp"

#include <algorithm>

namespace sf {

namespace {

// Heights below this would make the noise (relative to the height) vanish.
constexpr double kMinHeight = 1.0;

}  // namespace

BoxKalmanFilter::BoxKalmanFilter(const cv::Rect2f& box, double pts, const BoxNoise& noise)
    : kf_(8, 4, 0, CV_64F), noise_(noise), pts_(pts) {
  cv::setIdentity(kf_.measurementMatrix);
  auto& x = kf_.statePost;
  x.at<double>(0) = box.x + box.width / 2.0;
  x.at<double>(1) = box.y + box.height / 2.0;
  x.at<double>(2) = box.width;
  x.at<double>(3) = box.height;
  // Unknown velocity: wide, so the second sighting sets it.
  const double h = std::max<double>(box.height, kMinHeight);
  const double p = 2 * noise_.measurement * h, v = 10 * noise_.velocity_per_s * h;
  kf_.errorCovPost = cv::Mat::diag(
      cv::Mat((cv::Mat_<double>(8, 1) << p * p, p * p, p * p, p * p, v * v, v * v, v * v, v * v)));
}

void BoxKalmanFilter::predict(double pts) {
  const double dt = pts - pts_;
  if (dt <= 0) return;
  cv::setIdentity(kf_.transitionMatrix);
  for (int i = 0; i < 4; ++i) kf_.transitionMatrix.at<double>(i, i + 4) = dt;
  // Noise grows with the step (random-walk velocity), so one long step is as uncertain as several short.
  const double h = std::max(kf_.statePost.at<double>(3), kMinHeight);
  const double qp = noise_.position_per_s * h, qv = noise_.velocity_per_s * h;
  kf_.processNoiseCov = cv::Mat::zeros(8, 8, CV_64F);
  for (int i = 0; i < 4; ++i) {
    kf_.processNoiseCov.at<double>(i, i) = qp * qp * dt;
    kf_.processNoiseCov.at<double>(i + 4, i + 4) = qv * qv * dt;
  }
  kf_.predict();
  // predict() leaves statePost as it was; the next prediction or box() must start from the prior.
  kf_.statePre.copyTo(kf_.statePost);
  kf_.errorCovPre.copyTo(kf_.errorCovPost);
  pts_ = pts;
}

void BoxKalmanFilter::correct(const cv::Rect2f& box, double noise_scale) {
  const double h = std::max<double>(box.height, kMinHeight);
  const double r = noise_.measurement * h * noise_scale;
  cv::setIdentity(kf_.measurementNoiseCov, cv::Scalar(r * r));
  // correct() starts from the prior; the state is always kept in statePost, so copy it there.
  kf_.statePost.copyTo(kf_.statePre);
  kf_.errorCovPost.copyTo(kf_.errorCovPre);
  cv::Mat z =
      (cv::Mat_<double>(4, 1) << box.x + box.width / 2.0, box.y + box.height / 2.0, box.width, box.height);
  kf_.correct(z);
}

void BoxKalmanFilter::stop_resizing() {
  kf_.statePost.at<double>(6) = 0;
  kf_.statePost.at<double>(7) = 0;
}

cv::Rect2f BoxKalmanFilter::box() const {
  const auto& x = kf_.statePost;
  const double w = std::max(x.at<double>(2), 1.0), h = std::max(x.at<double>(3), 1.0);
  return {float(x.at<double>(0) - w / 2), float(x.at<double>(1) - h / 2), float(w), float(h)};
}

cv::Point2f BoxKalmanFilter::velocity() const {
  return {float(kf_.statePost.at<double>(4)), float(kf_.statePost.at<double>(5))};
}

}  // namespace sf
