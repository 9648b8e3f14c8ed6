# The peer of `fast-advprop bench`: the same CIFAR ResNet-20 training step (width 16, option-A
# shortcuts as the engine's: stride-2 subsample + zero channel padding, 32×32×3, 10 classes)
# timed in PyTorch eager: forward, cross-entropy, backward, SGD with momentum, on random data.
# Eager, not torch.compile: the fair peer of an op-by-op engine. One JSON line per memory format.
# Usage: python3 torch_resnet20.py --threads N --batch B --seconds S --warmup W [--device cpu|cuda]
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('--threads', type=int, default=1)
p.add_argument('--batch', type=int, default=64)
p.add_argument('--seconds', type=float, default=5.0)
p.add_argument('--warmup', type=float, default=2.0)
p.add_argument('--device', default='cpu')
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
dev = torch.device(a.device)


def sync():
    if dev.type == 'cuda':
        torch.cuda.synchronize()


class Basic(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.stride, self.pad = stride, cout - cin

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        s = x[:, :, ::2, ::2] if self.stride == 2 else x
        if self.pad:
            s = F.pad(s, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        return F.relu(y + s)


class ResNet20(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(width)
        blocks, cin = [], width
        for stage in range(3):
            cout = width * 2 ** stage
            for i in range(3):
                blocks.append(Basic(cin, cout, 2 if stage > 0 and i == 0 else 1))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, 10)

    def forward(self, x):
        x = self.blocks(F.relu(self.bn(self.conv(x))))
        return self.fc(x.mean((2, 3)))


model = ResNet20().to(dev)
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
x = torch.randn(a.batch, 3, 32, 32, device=dev)
y = torch.randint(0, 10, (a.batch,), device=dev)


def step():
    opt.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), y).backward()
    opt.step()


for fmt in ('nchw', 'channels_last'):
    if fmt == 'channels_last':
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < a.warmup:
        step()
    sync()
    n, t0 = 0, time.perf_counter()
    while n < 2 or time.perf_counter() - t0 < a.seconds:
        step()
        n += 1
    sync()
    dt = time.perf_counter() - t0
    print(json.dumps({'format': fmt, 'imagesPerSecond': a.batch * n / dt, 'steps': n, 'seconds': dt,
                      'torch': torch.__version__, 'threads': a.threads, 'batch': a.batch, 'device': a.device,
                      'params': sum(q.numel() for q in model.parameters())}), flush=True)
