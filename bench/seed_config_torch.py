# PyTorch twin of bench/seed-config.ts (not a test): the network of
# configs/faster-rcnn_mobilenetv3-large-dli14-fpn_1x_coco.js built from torchvision parts:
# MobileNetV3-Large features tapped at [2, 5, 9, 14] (strides 4..32; stem frozen, BatchNorm in eval
# mode, as normEval), BackboneWithFPN(256, LastLevelMaxPool) for 5 levels, anchors 32..512 with one
# size and 3 ratios per level, MultiScaleRoIAlign over the 4 stride-4..32 levels, 2000/1000
# proposals in training, SGD momentum 0.9, 1 thread. Weights random (the cost does not depend on them).
# Usage: seed_config_torch.py DATA_DIR MIN_SIZE MAX_SIZE BATCH ITERATIONS. Prints one JSON line:
# seconds per iteration, wall clock and CPU time (medians after the first), and the peak RSS (VmHWM) in MB.
import json
import sys
import time

import torch
from torch import nn
from torchvision.models import mobilenet_v3_large
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.ops import MultiScaleRoIAlign
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

from shapes_torch import image, load

torch.set_num_threads(1)
torch.manual_seed(0)
data, min_size, max_size, batch, iterations = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
coco, cats, anns = load(data, 'train')
images = [im for im in coco['images'] if im['id'] in anns]


def sample(im):
    boxes = torch.tensor([[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2], a['bbox'][1] + a['bbox'][3]] for a in anns[im['id']]], dtype=torch.float32)
    return image(data, 'train', im), {'boxes': boxes, 'labels': torch.tensor([cats.index(a['category_id']) + 1 for a in anns[im['id']]])}


features = mobilenet_v3_large().features[:15]
for p in features[0].parameters():
    p.requires_grad_(False)
backbone = BackboneWithFPN(features, {'2': '0', '5': '1', '9': '2', '14': '3'}, [24, 40, 80, 160], 256, extra_blocks=LastLevelMaxPool())
anchors = AnchorGenerator(((32,), (64,), (128,), (256,), (512,)), ((0.5, 1.0, 2.0),) * 5)
model = FasterRCNN(backbone, num_classes=len(cats) + 1, rpn_anchor_generator=anchors, min_size=min_size, max_size=max_size,
                   box_roi_pool=MultiScaleRoIAlign(['0', '1', '2', '3'], 7, 0),
                   rpn_pre_nms_top_n_train=2000, rpn_post_nms_top_n_train=1000).train()
for m in features.modules():  # normEval: BatchNorm statistics fixed
    if isinstance(m, nn.BatchNorm2d):
        m.eval()
params = [p for p in model.parameters() if p.requires_grad]
opt = torch.optim.SGD(params, lr=0.001, momentum=0.9, weight_decay=1e-4)
times, cpu = [], []
for it in range(iterations):
    xs, ts = zip(*[sample(images[(batch * it + k) % len(images)]) for k in range(batch)])
    start, start_cpu = time.perf_counter(), time.process_time()
    loss = sum(model(list(xs), list(ts)).values())
    opt.zero_grad()
    loss.backward()
    opt.step()
    times.append(time.perf_counter() - start)
    cpu.append(time.process_time() - start_cpu)
median = lambda xs: sorted(xs[1:])[(len(xs) - 1) // 2] if len(xs) > 1 else xs[0]
peak = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:')) / 1024
print(json.dumps({'sPerIter': median(times), 'cpuPerIter': median(cpu), 'first': times[0], 'peakMB': peak, 'torch': torch.__version__}), flush=True)
