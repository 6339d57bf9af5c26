"""Python twin of bench/export.ts: torch.save of the state dict torchport exports, timed in one process.

  export_torch.py make CKPT          torchvision's fasterrcnn_mobilenet_v3_large_320_fpn (91 classes,
                                     seeded random init, ~76 MB) saved with torch.save
  export_torch.py save CKPT OUT N    torch.load CKPT once, torch.save it to OUT once measuring the
                                     peak RSS above the baseline (the loaded state dict) and its
                                     wall time, then N more times; prints JSON: that first time,
                                     median wall and CPU ms of the others, and that peak

Before each save the previous file is flushed to disk (untimed), as bench/export.ts does.
Peak RSS is Linux's VmHWM after resetting it through /proc/self/clear_refs right before the first
save (as bench/export.ts measures torchport's first export).
Run with OMP_NUM_THREADS=1 and OMP_WAIT_POLICY=PASSIVE (bench/export.ts does).
"""
import json
import os
import sys
import time

import torch
import torchvision


def rss_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def settle(path: str) -> None:
    """Untimed: the file on disk, so that replacing it next does not wait for its writeback."""
    if os.path.exists(path):
        fd = os.open(path, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)


def main() -> None:
    if sys.argv[1] == "make":
        torch.manual_seed(0)
        model = torchvision.models.detection.fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None)
        torch.save(model.state_dict(), sys.argv[2])
        return
    _, _, ckpt, out, n = sys.argv
    sd = torch.load(ckpt)
    settle(out)
    base = rss_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    t = time.perf_counter()
    torch.save(sd, out)
    first = (time.perf_counter() - t) * 1000
    peak = rss_kib("VmHWM")
    wall, cpu = [], []
    for _ in range(int(n)):
        settle(out)
        t, p = time.perf_counter(), time.process_time()
        torch.save(sd, out)
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - p) * 1000)
    print(json.dumps({"first": first, "wall": sorted(wall)[len(wall) // 2], "cpu": sorted(cpu)[len(cpu) // 2], "rssAboveBaseline": (peak - base) * 1024}))


if __name__ == "__main__":
    main()
