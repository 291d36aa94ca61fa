#!/usr/bin/python3
"""The peer of bench/cameras_bench.sh: what a user writes without sightflow, in plain Python + cv2.dnn.

  plain_camera.py camera CFG WEIGHTS VIDEO SECONDS [FPS]
      One camera: decode every frame at the video's pace (FPS, default the file's), infer the newest frame
      whenever the network is free (older ones are dropped), one OpenCV thread. Run one process per
      camera. Prints one JSON line: frames released, frames inferred, mean latency (ms).
  plain_camera.py model CFG WEIGHTS VIDEO THREADS BATCH SECONDS
      The model alone: forward passes of BATCH copies of frame 100 with THREADS OpenCV threads. Prints
      one JSON line: images per second.
"""
import json
import sys
import threading
import time

import cv2
import numpy as np

SIZE = 320


def load(cfg, weights):
    net = cv2.dnn.readNetFromDarknet(cfg, weights)
    return net, net.getUnconnectedOutLayersNames()


def blob(images):
    return cv2.dnn.blobFromImages(images, 1 / 255.0, (SIZE, SIZE), swapRB=True, crop=False)


def camera(cfg, weights, video, seconds, fps=None):
    cv2.setNumThreads(1)
    net, outs = load(cfg, weights)
    cap = cv2.VideoCapture(video)
    fps = fps or cap.get(cv2.CAP_PROP_FPS) or 10.0
    newest = {"frame": None, "t": 0.0}
    lock = threading.Condition()
    released = 0
    done = False

    def decode():
        nonlocal released, done, cap
        start = time.monotonic()
        k = 0
        while time.monotonic() - start < seconds:
            ok, frame = cap.read()
            if not ok:  # loop the file, as a camera never ends
                cap = cv2.VideoCapture(video)
                continue
            due = start + k / fps
            k += 1
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            with lock:
                newest["frame"], newest["t"] = frame, time.monotonic()
                released += 1
                lock.notify()
        with lock:
            done = True
            lock.notify()

    reader = threading.Thread(target=decode)
    reader.start()
    inferred = 0
    latency = 0.0
    while True:
        with lock:
            lock.wait_for(lambda: newest["frame"] is not None or done)
            if newest["frame"] is None:
                break
            frame, t = newest["frame"], newest["t"]
            newest["frame"] = None
        net.setInput(blob([frame]))
        net.forward(outs)
        inferred += 1
        latency += time.monotonic() - t
    reader.join()
    print(json.dumps({"released": released, "inferred": inferred,
                      "latency_ms": 1000 * latency / max(inferred, 1)}))


def model(cfg, weights, video, threads, batch, seconds):
    cv2.setNumThreads(threads)
    net, outs = load(cfg, weights)
    cap = cv2.VideoCapture(video)
    cap.set(cv2.CAP_PROP_POS_FRAMES, 100)
    ok, frame = cap.read()
    assert ok, "cannot read frame 100 of " + video
    net.setInput(blob([frame] * batch))
    net.forward(outs)  # warm up
    n = 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        net.setInput(blob([frame] * batch))
        net.forward(outs)
        n += batch
    print(json.dumps({"images_per_s": n / (time.monotonic() - start)}))


if __name__ == "__main__":
    if len(sys.argv) >= 6 and sys.argv[1] == "camera":
        camera(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]),
               float(sys.argv[6]) if len(sys.argv) > 6 else None)
    elif len(sys.argv) == 8 and sys.argv[1] == "model":
        model(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7]))
    else:
        sys.exit(__doc__)
