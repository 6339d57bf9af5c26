# PyTorch side of bench/recipe-parity.ts (not a test): torchvision's from-scratch recipe on the
# synthetic shapes data. fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None,
# num_classes=4): BatchNorm2d in train mode, every layer trainable. SGD lr 0.02, momentum 0.9,
# weight decay 1e-4, linear warm-up over 50 iterations from 0.001, batch 4, horizontal flips 0.5,
# 600 RPN proposals before and after NMS in training, 64 RoIs per image, one thread.
# Usage: recipe_parity_torch.py DATA_DIR EPOCHS SEED OUT_JSON (the last batch of an epoch may be
# short, as torchport's loader keeps it). Writes the loss of every iteration and COCO-format
# detections on val.
import json
import sys

import torch
from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_320_fpn

from shapes_torch import detect, train

torch.set_num_threads(1)
data, epochs, seed, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
torch.manual_seed(seed)
model = fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None, num_classes=4)
model.rpn._pre_nms_top_n['training'] = 600
model.rpn._post_nms_top_n['training'] = 600
model.roi_heads.fg_bg_sampler.batch_size_per_image = 64

iterations, seconds, losses = train(model, data, epochs, model.parameters(), lambda epoch, it: 0.02 * (0.05 + 0.95 * it / 50 if it < 50 else 1.0))
json.dump({'iterations': iterations, 'seconds': seconds, 'losses': losses, 'detections': detect(model, data)}, open(out, 'w'))
