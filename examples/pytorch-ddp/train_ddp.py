"""Continue training a torchport-exported Faster R-CNN (MobileNetV3-large FPN) in PyTorch, on
several processes with DistributedDataParallel: GPUs with NCCL, or CPU processes with gloo.

    torchport export work_dirs/shapes/best --format pth --out detector.pth
    torchrun --standalone --nproc_per_node 4 examples/pytorch-ddp/train_ddp.py \\
        --weights detector.pth --data data/shapes --epochs 12 --out detector_ddp.pth

--data is a COCO-layout folder (annotations/instances_train.json and train/, as
`torchport make-dataset` and the fine-tuning configs use); labels are 1..K-1 in category-id order,
as torchport numbers them. The model is torchvision's fasterrcnn_mobilenet_v3_large_320_fpn (or
_fpn with --min-size 800 --max-size 1333); --width-mult, --fpn-channels and --representation
rebuild it at other sizes. The weights must load with strict=True: a key torchvision does not
expect is an error, never silently skipped. The result (rank 0) is a plain state dict that
`torchport convert` reads back.
"""
import argparse
import json
import os

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler
from torchvision.io import ImageReadMode, read_image
from torchvision.models import mobilenet_v3_large
from torchvision.models.detection import FasterRCNN, fasterrcnn_mobilenet_v3_large_320_fpn
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool


def build_detector(num_classes: int, width_mult: float, fpn_channels: int, representation: int, min_size: int, max_size: int) -> FasterRCNN:
    """torchvision's 320 builder (BatchNorm2d, all layers trainable), resized where asked."""
    ref = fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None, num_classes=num_classes,
                                                 min_size=min_size, max_size=max_size)
    if (width_mult, fpn_channels, representation) == (1.0, 256, 1024):
        return ref
    body = mobilenet_v3_large(weights=None, width_mult=width_mult, norm_layer=nn.BatchNorm2d).features
    return_layers = dict(ref.backbone.body.return_layers)
    in_channels = [body[int(i)].out_channels for i in return_layers]
    backbone = BackboneWithFPN(body, return_layers, in_channels, fpn_channels, extra_blocks=LastLevelMaxPool())
    rpn, roi = ref.rpn, ref.roi_heads
    return FasterRCNN(
        backbone, num_classes=None, min_size=min_size, max_size=max_size,
        rpn_anchor_generator=rpn.anchor_generator, box_roi_pool=roi.box_roi_pool,
        box_head=TwoMLPHead(fpn_channels * 7 * 7, representation), box_predictor=FastRCNNPredictor(representation, num_classes),
        rpn_pre_nms_top_n_train=rpn._pre_nms_top_n["training"], rpn_pre_nms_top_n_test=rpn._pre_nms_top_n["testing"],
        rpn_post_nms_top_n_train=rpn._post_nms_top_n["training"], rpn_post_nms_top_n_test=rpn._post_nms_top_n["testing"],
        rpn_score_thresh=rpn.score_thresh,
    )


class CocoFolder(Dataset):
    def __init__(self, root: str, split: str = "train"):
        with open(os.path.join(root, "annotations", f"instances_{split}.json")) as fh:
            coco = json.load(fh)
        self.dir = os.path.join(root, split)
        self.images = sorted(coco["images"], key=lambda im: im["id"])
        label = {c["id"]: i + 1 for i, c in enumerate(sorted(coco["categories"], key=lambda c: c["id"]))}
        self.boxes = {im["id"]: [] for im in self.images}
        for a in coco["annotations"]:
            x, y, w, h = a["bbox"]
            self.boxes[a["image_id"]].append(([x, y, x + w, y + h], label[a["category_id"]]))

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        im = self.images[i]
        image = read_image(os.path.join(self.dir, im["file_name"]), ImageReadMode.RGB).float() / 255
        objs = self.boxes[im["id"]]
        target = {
            "boxes": torch.tensor([b for b, _ in objs], dtype=torch.float32).reshape(-1, 4),
            "labels": torch.tensor([l for _, l in objs], dtype=torch.int64),
        }
        return image, target


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", required=True, help="state dict exported by `torchport export --format pth`")
    p.add_argument("--data", required=True, help="COCO-layout folder")
    p.add_argument("--num-classes", type=int, help="including background (default: read off the weights)")
    p.add_argument("--width-mult", type=float, default=1.0)
    p.add_argument("--fpn-channels", type=int, default=256)
    p.add_argument("--representation", type=int, default=1024)
    p.add_argument("--min-size", type=int, default=320)
    p.add_argument("--max-size", type=int, default=640)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--steps", type=int, default=0, help="stop after this many steps (0: run all epochs)")
    p.add_argument("--batch-size", type=int, default=2, help="per process")
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--backend", default="nccl" if torch.cuda.is_available() else "gloo")
    p.add_argument("--out", help="rank 0 saves the trained state dict here")
    args = p.parse_args()

    dist.init_process_group(args.backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}") if args.backend == "nccl" else torch.device("cpu")
    torch.manual_seed(0)

    state = torch.load(args.weights, map_location="cpu", weights_only=True)
    num_classes = args.num_classes or state["roi_heads.box_predictor.cls_score.bias"].shape[0]
    model = build_detector(num_classes, args.width_mult, args.fpn_channels, args.representation, args.min_size, args.max_size)
    model.load_state_dict(state, strict=True)
    model.to(device).train()
    ddp = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    data = CocoFolder(args.data)
    sampler = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=True, seed=0)
    loader = DataLoader(data, batch_size=args.batch_size, sampler=sampler, collate_fn=lambda b: tuple(zip(*b)))
    optimizer = torch.optim.SGD([q for q in model.parameters() if q.requires_grad], lr=args.lr, momentum=0.9, weight_decay=1e-4)

    step, losses = 0, []
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        for images, targets in loader:
            images = [im.to(device) for im in images]
            targets = [{k: v.to(device) for k, v in t.items()} for t in targets]
            loss = sum(ddp(images, targets).values())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            losses.append(loss.item())
            if rank == 0:
                print(f"epoch {epoch} step {step} loss {loss.item():.4f}", flush=True)
            if args.steps and step >= args.steps:
                break
        if args.steps and step >= args.steps:
            break

    # Every process must hold the same weights after DDP's synchronised steps.
    checksum = torch.stack([q.detach().double().sum() for q in model.parameters()]).sum().reshape(1)
    sums = [torch.zeros_like(checksum) for _ in range(world)]
    dist.all_gather(sums, checksum)
    if rank == 0:
        if args.out:
            torch.save(model.state_dict(), args.out)
        print(json.dumps({"worldSize": world, "steps": step, "losses": losses, "ranksInSync": all(torch.equal(s, sums[0]) for s in sums)}), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
