/** Dropout layers, as torch.nn's dropout.py: each stores p and inplace and drops only in training mode. */
import type { Tensor } from '../../core/tensor';
import * as F from '../functional';
import { pyFloat, pyRepr } from '../repr';
import { signature } from '../../core/signature';
import { Module } from '../module';
import { functionalModule } from './activation';

export type DropoutFields = { p: number; inplace: boolean };
const dropoutModule = (name: string, f: (x: Tensor, p: number, training: boolean, inplace: boolean) => Tensor) =>
  functionalModule(
    name,
    signature<DropoutFields>()(name, ['p', 'inplace'], { p: 0.5, inplace: false }),
    (x, a) => f(x, a.p, a instanceof Module && a.training, a.inplace), // `a` is the module itself
    (a) => `p=${pyFloat(a.p)}, inplace=${pyRepr(a.inplace)}`,
    (a) => {
      if (typeof a.p !== 'number' || !(a.p >= 0 && a.p <= 1)) throw new RangeError(`dropout probability has to be between 0 and 1, but got ${a.p}`);
    },
  );

/** Zeroes elements with probability p in training (the rest scaled by 1/(1−p)), as torch.nn.Dropout(p, inplace). */
export const Dropout = dropoutModule('Dropout', F.dropout);
/** Zeroes whole channels of (N, C, L), as torch.nn.Dropout1d(p, inplace). */
export const Dropout1d = dropoutModule('Dropout1d', F.dropout1d);
/** Zeroes whole channels of (N, C, H, W), as torch.nn.Dropout2d(p, inplace). */
export const Dropout2d = dropoutModule('Dropout2d', F.dropout2d);
/** Zeroes whole channels of (N, C, D, H, W), as torch.nn.Dropout3d(p, inplace). */
export const Dropout3d = dropoutModule('Dropout3d', F.dropout3d);
// Python's alpha-dropout modules take inplace but never pass it on: they never write into their input
/** Dropout that keeps a SELU network's statistics, as torch.nn.AlphaDropout(p, inplace). */
export const AlphaDropout = dropoutModule('AlphaDropout', (x, p, training) => F.alphaDropout(x, p, training));
/** Alpha dropout of whole channels, as torch.nn.FeatureAlphaDropout(p, inplace). */
export const FeatureAlphaDropout = dropoutModule('FeatureAlphaDropout', (x, p, training) => F.featureAlphaDropout(x, p, training));

// Each class above as a type too (`let act: ReLU`), as a class declaration gives.
export type AlphaDropout = InstanceType<typeof AlphaDropout>;
export type Dropout = InstanceType<typeof Dropout>;
export type Dropout1d = InstanceType<typeof Dropout1d>;
export type Dropout2d = InstanceType<typeof Dropout2d>;
export type Dropout3d = InstanceType<typeof Dropout3d>;
export type FeatureAlphaDropout = InstanceType<typeof FeatureAlphaDropout>;
