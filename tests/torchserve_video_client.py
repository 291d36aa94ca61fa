#!/usr/bin/python3
"""A camera client written the way TorchServe's near-real-time video example writes one, used by
torchserve_client_test to show that such clients work against `sightflow serve` unchanged.

One thread reads frames with OpenCV and JPEG-encodes them into a queue (paced like a camera); another sends
them to POST /predictions/MODEL, either one frame per request with `--batch_size` requests in flight
(the server batches) or, with --client-batching, `--batch_size` frames per request as a JSON object of
base64 images keyed "0".."N-1" (the client batches). It prints the example's FPS lines and the answers;
--results writes {"frame", "status", "result"} per frame as JSON Lines for the test to check.
Exit status: 0 when every request was answered 200, 1 otherwise.
"""
import argparse
import base64
import collections
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import cv2
import requests


def read_frames(args, frames, done):
    """Reads, encodes and queues frames at the camera's pace until the source or --max-frames ends."""
    try:
        source = int(args.input)  # a camera device
    except ValueError:
        source = args.input
    capture = cv2.VideoCapture(source)
    if not capture.isOpened():
        print("cannot open " + args.input, file=sys.stderr)
    count = 0
    while capture.isOpened() and count < args.max_frames:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.imencode(".jpg", frame)[1].tobytes())
        count += 1
        if not isinstance(source, int):
            time.sleep(1.0 / args.fps)  # a file is read as fast as a camera would deliver it
    capture.release()
    print("Done reading {} frames".format(count))
    done.set()


class Sender:
    def __init__(self, args):
        self.args = args
        self.url = "{}/predictions/{}".format(args.url.rstrip("/"), args.model)
        self.local = threading.local()
        self.answers = {}  # frame -> (status, body text)
        self.lock = threading.Lock()
        self.sent = 0
        self.started = time.time()

    def session(self):
        # One kept-alive connection per sending thread, as requests-futures' pool has.
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def log_fps(self, frames_in_request):
        now = time.time()
        fps = frames_in_request / max(now - self.started, 1e-6)
        self.started = now
        if self.sent % 20 == 0:
            print("With Batch Size {}, FPS at frame number {} is {:.1f}".format(
                self.args.batch_size, self.sent, fps), flush=True)
            return True
        return False

    def post_one(self, frame, jpeg):
        # A raw body without a content type, as the example's session.post(api, data=payload) sends it.
        response = self.session().post(self.url, data=jpeg, timeout=120)
        with self.lock:
            self.answers[frame] = (response.status_code, response.text)
            self.sent += 1
            if self.log_fps(1):
                print(response.text, flush=True)

    def post_batch(self, first, jpegs):
        payload = {str(i): base64.b64encode(jpeg).decode("utf8") for i, jpeg in enumerate(jpegs)}
        headers = {"Content-type": "application/json", "Accept": "text/plain"}
        response = requests.post(self.url, data=json.dumps(payload), headers=headers, timeout=120)
        self.sent += len(jpegs)
        if response.status_code == 200:
            answers = response.json()
            if not isinstance(answers, list) or len(answers) != len(jpegs):
                print("expected a list of {} answers, got: {}".format(len(jpegs), response.text))
                answers = [None] * len(jpegs)
            for i, answer in enumerate(answers):
                self.answers[first + i] = (200, json.dumps(answer))
        else:
            for i in range(len(jpegs)):
                self.answers[first + i] = (response.status_code, response.text)
        if self.log_fps(len(jpegs)):
            print(response.text, flush=True)

    def run(self, frames, done):
        next_frame = 0
        pool = ThreadPoolExecutor(max_workers=self.args.batch_size)
        futures = []
        while not (done.is_set() and not frames):
            if self.args.client_batching:
                if len(frames) >= self.args.batch_size or (done.is_set() and frames):
                    batch = [frames.popleft() for _ in range(min(self.args.batch_size, len(frames)))]
                    self.post_batch(next_frame, batch)
                    next_frame += len(batch)
                    continue
            elif frames:
                futures.append(pool.submit(self.post_one, next_frame, frames.popleft()))
                next_frame += 1
                continue
            time.sleep(self.args.sleep)
        for future in futures:
            future.result()
        pool.shutdown()
        return next_frame


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://localhost:8080")
    parser.add_argument("--model", default="resnet-18")
    parser.add_argument("--input", required=True, help="video file, or a camera device number")
    parser.add_argument("--batch_size", type=int, default=4)
    parser.add_argument("--client-batching", action="store_true")
    parser.add_argument("--max-frames", type=int, default=1 << 30)
    parser.add_argument("--fps", type=float, default=30, help="pace of a file source")
    parser.add_argument("--sleep", type=float, default=0.01, help="wait when no frame is ready, s")
    parser.add_argument("--results", help="write each frame's answer here (JSON Lines)")
    args = parser.parse_args()

    frames, done = collections.deque(), threading.Event()
    reader = threading.Thread(target=read_frames, args=(args, frames, done))
    reader.start()
    sender = Sender(args)
    count = sender.run(frames, done)
    reader.join()

    failed = 0
    lines = []
    for frame in range(count):
        status, text = sender.answers.get(frame, (0, "no answer"))
        if status != 200:
            failed += 1
            print("frame {}: HTTP {}: {}".format(frame, status, text), file=sys.stderr)
        result = json.loads(text) if status == 200 else text
        lines.append(json.dumps({"frame": frame, "status": status, "result": result}))
    if args.results:
        with open(args.results, "w") as out:
            out.write("\n".join(lines) + "\n")
    print("Sent {} frames, {} failed".format(count, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
