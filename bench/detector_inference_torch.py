# PyTorch side of bench/detector-inference.ts (not a test). Builds the FULL-size
# fasterrcnn_mobilenet_v3_large_320_fpn (91 classes) with seeded random weights, saves its state
# dict and a seeded 320x320 image for the tfjs side, and times eval-mode inference on that image
# with one thread (torch links libblas.so.3, which the Debian alternative points at OpenBLAS).
# Usage: /usr/bin/python3 bench/detector_inference_torch.py OUT_DIR RUNS
import json
import os
import sys
import time

import numpy as np
import torch
from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_320_fpn

torch.set_num_threads(1)
out_dir, runs = sys.argv[1], int(sys.argv[2])
torch.manual_seed(0)
model = fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None, num_classes=91).eval()
with torch.no_grad():
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
torch.save(model.state_dict(), os.path.join(out_dir, "model.pth"))
image = torch.randint(0, 256, (320, 320, 3), generator=torch.Generator().manual_seed(1), dtype=torch.uint8)
np.save(os.path.join(out_dir, "image.npy"), image.numpy())
x = image.permute(2, 0, 1).float() / 255

times = []
with torch.no_grad():
    for i in range(runs + 2):
        s = time.perf_counter()
        det = model([x])[0]
        if i >= 2:
            times.append((time.perf_counter() - s) * 1000)
times.sort()
print(json.dumps({"ms": times[len(times) // 2], "min_ms": times[0], "runs": runs, "detections": int(det["boxes"].shape[0])}))
