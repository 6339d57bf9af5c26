# PyTorch side of bench/finetune-map.ts (not a test): the demo's fine-tuning done by torchvision.
# Loads the demo's bundled checkpoint (assets/demo-detector.pth, the reduced torchvision detector
# of fixtures/gen_demo_checkpoint.py) and takes every setting from the config torchport resolved for
# the same run (its work folder's config.json): input scale, anchors, proposals, sampled anchors and
# RoIs, frozen stages (BatchNorm on running statistics), SGD, the linear warm-up and the step
# schedule, epochs. Batch 4, random horizontal flips (bench/shapes_torch.py), one thread.
# Usage: finetune_demo_torch.py DATA_DIR CONFIG_JSON CHECKPOINT OUT_JSON. Writes COCO-format
# detections on val.
import json, os, sys
import torch
from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_320_fpn
from torchvision.models.detection.anchor_utils import AnchorGenerator

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures'))
import gen_fasterrcnn as g  # noqa: E402  (its build_model: the checkpoint's layout)
from shapes_torch import detect, load, train  # noqa: E402

torch.set_num_threads(1)
torch.manual_seed(0)
data, cfg_file, checkpoint, out = sys.argv[1:5]
cfg = json.load(open(cfg_file))
m, opt = cfg['model'], cfg['optimizer']
warmup, steps = cfg['paramScheduler']
epochs = cfg['trainCfg']['maxEpochs']
# What shapes_torch.train and this model hard-wire: refuse a config that asks for something else.
fixed = {'data.batchSize': (cfg['data']['batchSize'], 4), 'optimizer.type': (opt['type'], 'SGD'),
         'optimizer.momentum': (opt['momentum'], 0.9), 'optimizer.weightDecay': (opt['weightDecay'], 1e-4),
         'clipGrad': (cfg.get('clipGrad'), None), 'paramScheduler types': ((warmup['type'], steps['type']), ('LinearLR', 'MultiStepLR')),
         'warm-up by iteration from 0': ((warmup['byEpoch'], warmup['begin']), (False, 0)),
         'steps by epoch over the run': ((steps['byEpoch'], steps['begin'], steps['end']), (True, 0, epochs)),
         'model.backbone.normEval': (m['backbone']['normEval'], True)}
for key, (got, want) in fixed.items():
    if got != want:
        sys.exit(f'{cfg_file}: {key} is {got!r}; this twin runs only {want!r}')

ref = fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None, num_classes=g.NUM_CLASSES)
ref.transform.min_size, ref.transform.max_size = (m['transform']['minSize'],), m['transform']['maxSize']
ref.rpn.anchor_generator = AnchorGenerator(tuple(tuple(s) for s in m['rpn']['anchors']['sizes']),
                                           tuple(tuple(r) for r in m['rpn']['anchors']['aspectRatios']))
ref.rpn._pre_nms_top_n = {'training': m['rpn']['preNmsTopN']['train'], 'testing': m['rpn']['preNmsTopN']['test']}
ref.rpn._post_nms_top_n = {'training': m['rpn']['postNmsTopN']['train'], 'testing': m['rpn']['postNmsTopN']['test']}
ref.rpn.fg_bg_sampler.batch_size_per_image = m['rpn']['batchSizePerImage']
ref.roi_heads.fg_bg_sampler.batch_size_per_image = m['roiHead']['batchSizePerImage']
model = g.build_model(ref)
model.load_state_dict(torch.load(checkpoint))
for name, block in model.backbone.body.named_children():
    if int(name) <= m['backbone']['frozenStages']:
        block.requires_grad_(False)


def set_train(on):
    model.train(on)
    for mod in model.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.eval()


# torchport's schedulers end by the run's end at the latest (src/config/schedulers.ts): a warm-up
# longer than a short run spans the run, a milestone at the last epoch never comes.
_, _, anns = load(data, 'train')
warmup_end = min(warmup['end'], epochs * ((len(anns) + 3) // 4))


def lr_at(epoch, it):
    lr = opt['lr'] * steps['gamma'] ** sum(epoch >= s for s in steps['milestones'] if s < epochs)
    if it < warmup_end:
        lr *= warmup['startFactor'] + (1 - warmup['startFactor']) * it / warmup_end
    return lr


params = [p for p in model.parameters() if p.requires_grad]
iterations, seconds, losses = train(model, data, epochs, params, lr_at, set_train)
json.dump({'epochs': epochs, 'iterations': iterations, 'seconds': seconds, 'losses': losses, 'detections': detect(model, data)}, open(out, 'w'))
