// Flat parameter and running-statistics layout. The trainer keeps weights, momentum and running
// statistics as Float32Arrays in exactly this order, so the order is part of the checkpoint format:
// append, never reorder.
//
// Parameters, in forward order of the layers: a conv contributes `<conv>.w` [k, k, cin, cout]
// (shared); a dual BN contributes `<bn>.main.gamma`, `<bn>.main.beta` (clean) and
// `<bn>.aux.gamma`, `<bn>.aux.beta` (adv); the classifier `fc.w` [cin, classes] and `fc.b` (shared).
//
// Running statistics: every main-set BN layer first, then every aux-set layer, each as mean then
// variance. Because the sets are contiguous, a pass's BatchStats.values (mean, var per layer of one
// set, layout order) line up one-to-one with that set's block of the running vector.

import type { BnLayerInfo, BnSet, ModelLayout, ModelSpec, ParamGroup, ParamInfo } from './types';
import { blockLayers, describeNet, isConv, type BnDef, type ConvDef } from './net';

export function buildLayout(spec: ModelSpec): ModelLayout {
  const net = describeNet(spec);
  const params: ParamInfo[] = [];
  let offset = 0;
  const add = (name: string, shape: number[], group: ParamGroup): void => {
    const size = shape.reduce((a, b) => a * b, 1);
    params.push({ name, shape, group, offset, size });
    offset += size;
  };
  const bns: BnDef[] = [];
  const addLayer = (l: ConvDef | BnDef): void => {
    if (isConv(l)) {
      add(`${l.name}.w`, [l.k, l.k, l.cin, l.cout], 'shared');
    } else {
      add(`${l.name}.main.gamma`, [l.channels], 'clean');
      add(`${l.name}.main.beta`, [l.channels], 'clean');
      add(`${l.name}.aux.gamma`, [l.channels], 'adv');
      add(`${l.name}.aux.beta`, [l.channels], 'adv');
      bns.push(l);
    }
  };
  addLayer(net.stem.conv);
  addLayer(net.stem.bn);
  for (const b of net.blocks) for (const l of blockLayers(b)) addLayer(l);
  add(`${net.fc.name}.w`, [net.fc.cin, net.fc.cout], 'shared');
  add(`${net.fc.name}.b`, [net.fc.cout], 'shared');

  const bnLayers: BnLayerInfo[] = [];
  let roff = 0;
  for (const set of ['main', 'aux'] as BnSet[]) {
    for (const bn of bns) {
      bnLayers.push({ name: bn.name, set, channels: bn.channels, offset: roff });
      roff += 2 * bn.channels;
    }
  }

  const groupCounts: Record<ParamGroup, number> = { shared: 0, clean: 0, adv: 0 };
  for (const p of params) groupCounts[p.group] += p.size;
  assertLayout(params, offset, groupCounts);
  return { params, paramCount: offset, bnLayers, runningCount: roff, groupCounts };
}

// The reference asserts that every trainable parameter is in exactly one group; a slip here would
// silently train a BN set with the other stream's gradient-count normalisation.
function assertLayout(params: ParamInfo[], paramCount: number, counts: Record<ParamGroup, number>): void {
  const names = new Set<string>();
  let next = 0;
  for (const p of params) {
    if (names.has(p.name)) throw new Error(`model layout: parameter ${p.name} appears twice`);
    names.add(p.name);
    if (p.offset !== next) throw new Error(`model layout: parameter ${p.name} is not contiguous`);
    next += p.size;
    const isBn = /\.(main|aux)\.(gamma|beta)$/.test(p.name);
    const expected: ParamGroup = !isBn ? 'shared' : p.name.includes('.main.') ? 'clean' : 'adv';
    if (p.group !== expected) throw new Error(`model layout: parameter ${p.name} is in group ${p.group}, expected ${expected}`);
  }
  if (counts.shared + counts.clean + counts.adv !== paramCount || next !== paramCount) {
    throw new Error('model layout: parameter groups do not partition the parameters');
  }
  if (counts.clean !== counts.adv) throw new Error('model layout: main and aux BN sets differ in size');
}

/** Index of each parameter by name. */
export function paramIndex(layout: ModelLayout): Map<string, number> {
  return new Map(layout.params.map((p, i) => [p.name, i]));
}

/** Number of running-stat floats (mean + var of every layer) of one BN set: the length of a BatchStats.values. */
export function bnSetSize(layout: ModelLayout, set: BnSet): number {
  return layout.bnLayers.filter((l) => l.set === set).reduce((a, l) => a + 2 * l.channels, 0);
}

/** Offset of a BN set's contiguous block in the running vector (BatchStats.values maps onto it directly). */
export function bnSetOffset(layout: ModelLayout, set: BnSet): number {
  const first = layout.bnLayers.find((l) => l.set === set);
  return first ? first.offset : 0;
}
