# PyTorch side of bench/finetune.ts (not a test): torchvision's fasterrcnn_mobilenet_v3_large_320_fpn
# training step on the same COCO-format images, batch 2, in the fine-tune configuration torchport's
# 320 config uses (3 trainable backbone stages, FrozenBatchNorm2d), SGD momentum 0.9, one thread.
# Usage: finetune_torch.py DATA_DIR ITERATIONS. Prints one JSON line.
import json, os, sys, time
import numpy as np
import torch
from PIL import Image
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.backbone_utils import mobilenet_backbone
from torchvision.ops.misc import FrozenBatchNorm2d

torch.set_num_threads(1)
torch.manual_seed(0)
data, iterations = sys.argv[1], int(sys.argv[2])
coco = json.load(open(os.path.join(data, 'annotations', 'instances_train.json')))
cats = sorted(c['id'] for c in coco['categories'])
anns = {}
for a in coco['annotations']:
    anns.setdefault(a['image_id'], []).append(a)
images = [im for im in coco['images'] if im['id'] in anns]


def sample(im):
    x = torch.from_numpy(np.asarray(Image.open(os.path.join(data, 'train', im['file_name'])).convert('RGB'))).permute(2, 0, 1).float() / 255
    boxes = torch.tensor([[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2], a['bbox'][1] + a['bbox'][3]] for a in anns[im['id']]], dtype=torch.float32)
    labels = torch.tensor([cats.index(a['category_id']) + 1 for a in anns[im['id']]])
    return x, {'boxes': boxes, 'labels': labels}


# torchvision's _fasterrcnn_mobilenet_v3_large_fpn with the 320 settings, as its builder makes it
# from a pretrained backbone (trainable_layers=3, FrozenBatchNorm2d), weights random here.
backbone = mobilenet_backbone(backbone_name='mobilenet_v3_large', weights=None, fpn=True, trainable_layers=3, norm_layer=FrozenBatchNorm2d)
anchors = AnchorGenerator(((32, 64, 128, 256, 512),) * 3, ((0.5, 1.0, 2.0),) * 3)
model = FasterRCNN(backbone, num_classes=len(cats) + 1, rpn_anchor_generator=anchors, min_size=320, max_size=640,
                   rpn_pre_nms_top_n_test=150, rpn_post_nms_top_n_test=150, rpn_score_thresh=0.05).train()
params = [p for p in model.parameters() if p.requires_grad]
opt = torch.optim.SGD(params, lr=0.005, momentum=0.9, weight_decay=1e-4)
times, losses = [], []
for it in range(iterations):
    batch = [sample(images[(2 * it + k) % len(images)]) for k in range(2)]
    start = time.perf_counter()
    loss_dict = model([b[0] for b in batch], [b[1] for b in batch])
    loss = sum(loss_dict.values())
    opt.zero_grad()
    loss.backward()
    opt.step()
    times.append(time.perf_counter() - start)
    losses.append(float(loss))
steady = sorted(times[1:]) if len(times) > 1 else times
print(json.dumps({'backend': 'torch 1 thread (OpenBLAS)', 'torch': torch.__version__, 'iterations': iterations,
                  's_per_iter': steady[len(steady) // 2], 'first_s': times[0], 'losses': losses}), flush=True)
