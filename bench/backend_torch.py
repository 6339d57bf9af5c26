# PyTorch side of bench/backend.ts (not a test). Run by that script; prints one JSON line per case.
# torch as installed here links libblas.so.3, which the Debian alternative points at OpenBLAS;
# one thread, as the targets are defined.
import json, os, sys, time
import torch, torchvision

torch.set_num_threads(1)


def busy_jiffies():
    with open('/proc/stat') as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    return sum(fields) - fields[3] - fields[4]  # minus idle and iowait


def measure(name, fn, warmup, runs):
    for _ in range(warmup):
        fn()
    hz = os.sysconf('SC_CLK_TCK')
    times, cpu = [], []
    b0, c0, t0 = busy_jiffies(), time.process_time(), time.perf_counter()
    for _ in range(runs):
        s, sc = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - s) * 1000)
        cpu.append((time.process_time() - sc) * 1000)
    wall = time.perf_counter() - t0
    other = max(0.0, ((busy_jiffies() - b0) / hz - (time.process_time() - c0)) / wall)
    times.sort()
    cpu.sort()
    print(json.dumps({'case': name, 'ms': times[len(times) // 2], 'min_ms': times[0], 'cpu_ms': cpu[len(cpu) // 2], 'runs': runs, 'other_cores': round(other, 2)}), flush=True)


def forward_case(batch):
    torch.manual_seed(0)
    model = torchvision.models.mobilenet_v3_large(weights=None).eval()
    x = torch.rand(batch, 3, 224, 224)

    def run():
        with torch.no_grad():
            model(x)
    return run


def train_case():
    torch.manual_seed(0)
    model = torchvision.models.mobilenet_v3_large(weights=None).train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-5, momentum=0.9)
    x, y = torch.rand(2, 3, 224, 224), torch.tensor([1, 7])

    def run():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return run


def detector(train):
    torch.manual_seed(0)
    from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_320_fpn
    return fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None, num_classes=4).train(train)


def detector_inference_case():
    model = detector(False)
    image = torch.rand(3, 320, 320)

    def run():
        with torch.no_grad():
            model([image])
    return run


def detector_train_case():
    model = detector(True)
    opt = torch.optim.SGD(model.parameters(), lr=1e-5, momentum=0.9)
    images = [torch.rand(3, 320, 320) for _ in range(2)]
    boxes = torch.tensor([[20, 30, 120, 160], [150, 40, 300, 200], [60, 180, 220, 310]], dtype=torch.float32)
    targets = [{'boxes': boxes, 'labels': torch.tensor([1, 2, 3])} for _ in range(2)]

    def run():
        opt.zero_grad()
        sum(model(images, targets).values()).backward()
        opt.step()
    return run


# Name -> (factory, warmup, runs); the same names as CASES in bench/backend.ts.
CASES = {
    'mnv3l-forward-1x224': (lambda: forward_case(1), 5, 15),
    'mnv3l-forward-8x224': (lambda: forward_case(8), 2, 5),
    'mnv3l-train-2x224': (train_case, 2, 5),
    'frcnn320-inference-1x320': (detector_inference_case, 2, 5),
    'frcnn320-train-2x320': (detector_train_case, 1, 2),
}

for name in sys.argv[1:]:
    factory, warmup, runs = CASES[name]
    measure(name, factory(), warmup, runs)
