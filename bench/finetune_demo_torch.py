# PyTorch side of bench/finetune-map.ts (not a test): the demo's fine-tuning done by torchvision.
# Loads the same bundled checkpoint (fixtures/fasterrcnn/model.pth, built as fixtures/gen_fasterrcnn.py
# builds it) with the demo config's settings (160-pixel inputs, anchors 16..256, 600/300 proposals,
# 64 anchors and 32 RoIs sampled per image), features[0..6] frozen and BatchNorm on running
# statistics (frozenStages 6, normEval), SGD lr 0.01 momentum 0.9 weight decay 1e-4, linear warm-up
# over 50 iterations from 0.01x, x0.1 at epoch 6, batch 4, random horizontal flips, one thread.
# Usage: finetune_demo_torch.py DATA_DIR EPOCHS OUT_JSON. Writes COCO-format detections on val.
import json, os, sys, time
import numpy as np
import torch
from PIL import Image
from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_320_fpn
from torchvision.models.detection.anchor_utils import AnchorGenerator

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures'))
import gen_fasterrcnn as g  # noqa: E402  (its build_model and the checkpoint's layout)

torch.set_num_threads(1)
torch.manual_seed(0)
data, epochs, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]

ref = fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None, num_classes=4)
ref.transform.min_size, ref.transform.max_size = (160,), 320
ref.rpn.anchor_generator = AnchorGenerator(((16, 32, 64, 128, 256),) * 3, ((0.5, 1.0, 2.0),) * 3)
ref.rpn._pre_nms_top_n = {'training': 600, 'testing': 150}
ref.rpn._post_nms_top_n = {'training': 300, 'testing': 150}
ref.rpn.fg_bg_sampler.batch_size_per_image = 64
ref.roi_heads.fg_bg_sampler.batch_size_per_image = 32
model = g.build_model(ref)
model.load_state_dict(torch.load(os.path.join(os.path.dirname(g.OUT), 'fasterrcnn', 'model.pth')))
for name, block in model.backbone.body.named_children():
    if int(name) < 7:
        block.requires_grad_(False)


def set_train(on):
    model.train(on)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.eval()


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
params = [p for p in model.parameters() if p.requires_grad]
opt = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-4)
per_epoch = (len(train) + 3) // 4
it, losses, start = 0, [], time.perf_counter()
set_train(True)
for epoch in range(epochs):
    order = torch.randperm(len(train)).tolist()
    for b in range(per_epoch):
        lr = 0.01 * (0.1 if epoch >= 6 else 1.0) * (0.01 + 0.99 * it / 50 if it < 50 else 1.0)
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
set_train(False)
val, vcats, _ = load('val')
dets = []
with torch.no_grad():
    for im in val['images']:
        r = model([image('val', im)])[0]
        for box, score, label in zip(r['boxes'].tolist(), r['scores'].tolist(), r['labels'].tolist()):
            dets.append({'image_id': im['id'], 'category_id': vcats[label - 1], 'bbox': [box[0], box[1], box[2] - box[0], box[3] - box[1]], 'score': score})
json.dump({'iterations': it, 'seconds': seconds, 'losses': losses, 'detections': dets}, open(out, 'w'))
