/**
 * The addon as lib/data imports it: its data.cc functions (gathers, generators) are declared with the rest
 * in lib/core/native.ts.
 */
import { native, type Handle, type Job, type NativeGenerator } from '../core/native';

/** The same object as `native`, under the name test/data.test.ts imports. */
export const dataNative = native;
export { native };
export type { Handle, Job, NativeGenerator };
