# PyTorch side of bench/finetune-map.ts (not a test): the demo's fine-tuning done by torchvision.
# Loads the same bundled checkpoint (fixtures/fasterrcnn/model.pth, built as fixtures/gen_fasterrcnn.py
# builds it) with the demo config's settings (160-pixel inputs, anchors 16..256, 600/300 proposals,
# 64 anchors and 32 RoIs sampled per image), features[0..6] frozen and BatchNorm on running
# statistics (frozenStages 6, normEval), SGD lr 0.01 momentum 0.9 weight decay 1e-4, linear warm-up
# over 50 iterations from 0.01x, x0.1 at epoch 6, batch 4, random horizontal flips, one thread.
# Usage: finetune_demo_torch.py DATA_DIR EPOCHS OUT_JSON. Writes COCO-format detections on val.
import json, os, sys
import torch
from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_320_fpn
from torchvision.models.detection.anchor_utils import AnchorGenerator

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures'))
import gen_fasterrcnn as g  # noqa: E402  (its build_model and the checkpoint's layout)
from shapes_torch import detect, train  # noqa: E402

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


params = [p for p in model.parameters() if p.requires_grad]
iterations, seconds, losses = train(model, data, epochs, params,
                                    lambda epoch, it: 0.01 * (0.1 if epoch >= 6 else 1.0) * (0.01 + 0.99 * it / 50 if it < 50 else 1.0), set_train)
json.dump({'iterations': iterations, 'seconds': seconds, 'losses': losses, 'detections': detect(model, data)}, open(out, 'w'))
