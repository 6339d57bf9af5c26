# PyTorch side of bench/recipe-parity.ts (not a test): torchvision's from-scratch recipe on the
# synthetic shapes data. fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None,
# num_classes=4): BatchNorm2d in train mode, every layer trainable. SGD lr 0.02, momentum 0.9,
# weight decay 1e-4, linear warm-up over 50 iterations from 0.001, batch 4, horizontal flips 0.5,
# 600 RPN proposals before and after NMS in training, 64 RoIs per image, one thread.
# Usage: recipe_parity_torch.py DATA_DIR EPOCHS SEED OUT_JSON (the last batch of an epoch may be
# short, as torchport's loader keeps it). Writes the loss of every
# iteration and COCO-format detections on val.
import json, os, sys, time
import numpy as np
import torch
from PIL import Image
from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_320_fpn

torch.set_num_threads(1)
data, epochs, seed, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
torch.manual_seed(seed)
model = fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None, num_classes=4)
model.rpn._pre_nms_top_n['training'] = 600
model.rpn._post_nms_top_n['training'] = 600
model.roi_heads.fg_bg_sampler.batch_size_per_image = 64


def load(split):
    coco = json.load(open(os.path.join(data, 'annotations', f'instances_{split}.json')))
    cats = sorted(c['id'] for c in coco['categories'])
    anns = {}
    for a in coco['annotations']:
        anns.setdefault(a['image_id'], []).append(a)
    return coco, cats, anns


def image(split, im):
    return torch.from_numpy(np.asarray(Image.open(os.path.join(data, split, im['file_name'])).convert('RGB'))).permute(2, 0, 1).float() / 255


coco, cats, anns = load('train')
train = [im for im in coco['images'] if im['id'] in anns]
opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9, weight_decay=1e-4)
losses, start, it = [], time.perf_counter(), 0
model.train()
for epoch in range(epochs):
    order = torch.randperm(len(train)).tolist()
    for b in range((len(train) + 3) // 4):
        lr = 0.02 * (0.05 + 0.95 * it / 50 if it < 50 else 1.0)
        for group in opt.param_groups:
            group['lr'] = lr
        xs, ts = [], []
        for i in order[4 * b:4 * b + 4]:
            im = train[i]
            x = image('train', im)
            boxes = torch.tensor([[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2], a['bbox'][1] + a['bbox'][3]] for a in anns[im['id']]], dtype=torch.float32)
            if torch.rand(1).item() < 0.5:
                x = x.flip(-1)
                boxes = torch.stack([x.shape[-1] - boxes[:, 2], boxes[:, 1], x.shape[-1] - boxes[:, 0], boxes[:, 3]], 1)
            xs.append(x)
            ts.append({'boxes': boxes, 'labels': torch.tensor([cats.index(a['category_id']) + 1 for a in anns[im['id']]])})
        loss = sum(model(xs, ts).values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
        it += 1
seconds = time.perf_counter() - start
model.eval()
val, vcats, _ = load('val')
dets = []
with torch.no_grad():
    for im in val['images']:
        r = model([image('val', im)])[0]
        for box, score, label in zip(r['boxes'].tolist(), r['scores'].tolist(), r['labels'].tolist()):
            dets.append({'image_id': im['id'], 'category_id': vcats[label - 1], 'bbox': [box[0], box[1], box[2] - box[0], box[3] - box[1]], 'score': score})
json.dump({'iterations': it, 'seconds': seconds, 'losses': losses, 'detections': dets}, open(out, 'w'))
