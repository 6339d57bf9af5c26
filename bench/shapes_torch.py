# Shared by the PyTorch twins of the fine-tuning benchmarks: the shapes dataset (COCO layout) as
# torchvision takes it, and the training loop both run (batch 4, random horizontal flips, the lr of
# each iteration from a callable), then COCO-format detections on the val images.
import json
import os
import time

import numpy as np
import torch
from PIL import Image


def load(data, split):
    coco = json.load(open(os.path.join(data, 'annotations', f'instances_{split}.json')))
    cats = sorted(c['id'] for c in coco['categories'])
    anns = {}
    for a in coco['annotations']:
        anns.setdefault(a['image_id'], []).append(a)
    return coco, cats, anns


def image(data, split, im):
    return torch.from_numpy(np.array(Image.open(os.path.join(data, split, im['file_name'])).convert('RGB'))).permute(2, 0, 1).float() / 255


def train(model, data, epochs, params, lr_at, set_train=None):
    """SGD (momentum 0.9, weight decay 1e-4) over `epochs` of batches of 4, the last one short;
    returns (iterations, seconds, losses)."""
    coco, cats, anns = load(data, 'train')
    images = [im for im in coco['images'] if im['id'] in anns]
    opt = torch.optim.SGD(params, lr=lr_at(0, 0), momentum=0.9, weight_decay=1e-4)
    (set_train or model.train)(True)
    it, losses, start = 0, [], time.perf_counter()
    for epoch in range(epochs):
        order = torch.randperm(len(images)).tolist()
        for b in range((len(images) + 3) // 4):
            for group in opt.param_groups:
                group['lr'] = lr_at(epoch, it)
            xs, ts = [], []
            for i in order[4 * b:4 * b + 4]:
                im = images[i]
                x = image(data, 'train', im)
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
    return it, time.perf_counter() - start, losses


def detect(model, data):
    """COCO-format detections of `model` (in eval mode) on the val images."""
    model.eval()
    val, cats, _ = load(data, 'val')
    dets = []
    with torch.no_grad():
        for im in val['images']:
            r = model([image(data, 'val', im)])[0]
            for box, score, label in zip(r['boxes'].tolist(), r['scores'].tolist(), r['labels'].tolist()):
                dets.append({'image_id': im['id'], 'category_id': cats[label - 1], 'bbox': [box[0], box[1], box[2] - box[0], box[3] - box[1]], 'score': score})
    return dets
