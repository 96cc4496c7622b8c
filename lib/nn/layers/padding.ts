/**
 * Padding layers, as torch.nn's padding.py: Zero, Constant, Reflection, Replication and Circular padding in
 * 1-3 dims. The padding is one number for every side or 2·dims of them (left, right, top, bottom, front, back).
 */
import type { Tensor } from '../../core/tensor';
import { describe } from '../../core/dtype';
import { Module } from '../module';
import * as F from '../functional';
import { pyFloat, pyRepr } from '../repr';

function sides(dims: number, padding: number | number[]): number[] {
  if (typeof padding === 'number' && Number.isInteger(padding)) return new Array<number>(2 * dims).fill(padding);
  if (Array.isArray(padding) && padding.length === 2 * dims && padding.every(Number.isInteger)) return [...padding];
  throw new TypeError(`padding must be an integer or ${2 * dims} integers (got ${describe(padding)})`);
}

/** The padding layers' one shape: F.pad with a mode (and a value for constant). */
export abstract class PadNd extends Module {
  readonly padding: number[];
  protected abstract readonly mode: F.PadMode;
  protected constructor(
    dims: number,
    padding: number | number[],
    readonly value = 0,
  ) {
    super();
    this.padding = sides(dims, padding);
  }
  forward(input: Tensor): Tensor {
    return this.mode === 'constant' ? F.pad(input, this.padding, 'constant', this.value) : F.pad(input, this.padding, this.mode);
  }
  override extraRepr(): string {
    return this.mode === 'constant' ? `padding=${pyRepr(this.padding)}, value=${pyFloat(this.value)}` : pyRepr(this.padding);
  }
}

export type PadClass = new (padding: number | number[]) => PadNd;
export type ConstantPadClass = new (padding: number | number[], value: number) => PadNd;
function padClass(name: string, dims: number, mode: F.PadMode): PadClass {
  return {
    [name]: class extends PadNd {
      protected readonly mode = mode;
      constructor(padding: number | number[]) {
        super(dims, padding);
      }
    },
  }[name];
}
function constantPadClass(name: string, dims: number, zero: boolean): ConstantPadClass {
  return {
    [name]: class extends PadNd {
      protected readonly mode = 'constant' as const;
      constructor(padding: number | number[], value: number) {
        if (!zero && typeof value !== 'number') throw new TypeError(`${name}: value must be a number (got ${describe(value)})`);
        super(dims, padding, zero ? 0 : value);
      }
      override extraRepr(): string {
        return zero ? pyRepr(this.padding) : super.extraRepr();
      }
    },
  }[name];
}

/** Pads with zeros, as torch.nn.ZeroPad1d/2d/3d(padding). */
export const ZeroPad1d = constantPadClass('ZeroPad1d', 1, true) as PadClass;
export const ZeroPad2d = constantPadClass('ZeroPad2d', 2, true) as PadClass;
export const ZeroPad3d = constantPadClass('ZeroPad3d', 3, true) as PadClass;
/** Pads with a constant, as torch.nn.ConstantPad1d/2d/3d(padding, value). */
export const ConstantPad1d = constantPadClass('ConstantPad1d', 1, false);
export const ConstantPad2d = constantPadClass('ConstantPad2d', 2, false);
export const ConstantPad3d = constantPadClass('ConstantPad3d', 3, false);
/** Pads with the reflection of the input, as torch.nn.ReflectionPad1d/2d/3d(padding). */
export const ReflectionPad1d = padClass('ReflectionPad1d', 1, 'reflect');
export const ReflectionPad2d = padClass('ReflectionPad2d', 2, 'reflect');
export const ReflectionPad3d = padClass('ReflectionPad3d', 3, 'reflect');
/** Pads by repeating the edge, as torch.nn.ReplicationPad1d/2d/3d(padding). */
export const ReplicationPad1d = padClass('ReplicationPad1d', 1, 'replicate');
export const ReplicationPad2d = padClass('ReplicationPad2d', 2, 'replicate');
export const ReplicationPad3d = padClass('ReplicationPad3d', 3, 'replicate');
/** Pads by wrapping around, as torch.nn.CircularPad1d/2d/3d(padding). */
export const CircularPad1d = padClass('CircularPad1d', 1, 'circular');
export const CircularPad2d = padClass('CircularPad2d', 2, 'circular');
export const CircularPad3d = padClass('CircularPad3d', 3, 'circular');

// Each class above as a type too (`let act: ReLU`), as a class declaration gives.
export type CircularPad1d = InstanceType<typeof CircularPad1d>;
export type CircularPad2d = InstanceType<typeof CircularPad2d>;
export type CircularPad3d = InstanceType<typeof CircularPad3d>;
export type ConstantPad1d = InstanceType<typeof ConstantPad1d>;
export type ConstantPad2d = InstanceType<typeof ConstantPad2d>;
export type ConstantPad3d = InstanceType<typeof ConstantPad3d>;
export type ReflectionPad1d = InstanceType<typeof ReflectionPad1d>;
export type ReflectionPad2d = InstanceType<typeof ReflectionPad2d>;
export type ReflectionPad3d = InstanceType<typeof ReflectionPad3d>;
export type ReplicationPad1d = InstanceType<typeof ReplicationPad1d>;
export type ReplicationPad2d = InstanceType<typeof ReplicationPad2d>;
export type ReplicationPad3d = InstanceType<typeof ReplicationPad3d>;
export type ZeroPad1d = InstanceType<typeof ZeroPad1d>;
export type ZeroPad2d = InstanceType<typeof ZeroPad2d>;
export type ZeroPad3d = InstanceType<typeof ZeroPad3d>;
