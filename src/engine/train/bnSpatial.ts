import type { ModelSpec } from '../exec/types';
import { describeNet, type ConvDef } from '../model/net';

// The running-variance correction n/(n−1) needs n = values per channel behind a statistic:
// group size × H × W at that BN layer. BatchStats carries only the group size, so the trainer
// derives each layer's H×W from the architecture, mirroring the forward pass's padding rules.

function convOut(side: number, c: ConvDef): number {
  if (c.stride === 1) return side; // 'same'
  const pad = (c.k - 1) >> 1;
  return Math.floor((side + 2 * pad - c.k) / c.stride) + 1;
}

/** H·W of the feature map each BN layer normalises, by BN layer name. */
export function bnSpatialSizes(spec: ModelSpec): Map<string, number> {
  const net = describeNet(spec);
  const out = new Map<string, number>();
  let h = convOut(spec.inputHeight, net.stem.conv);
  let w = convOut(spec.inputWidth, net.stem.conv);
  out.set(net.stem.bn.name, h * w);
  if (net.stem.maxPool) {
    h = Math.floor((h + 2 - 3) / 2) + 1;
    w = Math.floor((w + 2 - 3) / 2) + 1;
  }
  for (const b of net.blocks) {
    const inH = h;
    const inW = w;
    const convs: [ConvDef, string][] =
      b.type === 'basic' ? [[b.conv1, b.bn1.name], [b.conv2, b.bn2.name]] : [[b.conv1, b.bn1.name], [b.conv2, b.bn2.name], [b.conv3, b.bn3.name]];
    for (const [c, bn] of convs) {
      h = convOut(h, c);
      w = convOut(w, c);
      out.set(bn, h * w);
    }
    if (b.shortcut.type === 'proj') out.set(b.shortcut.bn.name, convOut(inH, b.shortcut.conv) * convOut(inW, b.shortcut.conv));
  }
  return out;
}
