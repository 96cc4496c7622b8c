/**
 * The Tensor every file imports: the class (tensor-class.ts) with all of its methods in place. Loading
 * this module installs the generated methods (surface.ts) and the hand-bound ones (ops.ts), so a Tensor
 * has `mul` wherever it came from, with no side-effect import to remember.
 */
import { installGeneratedMethods } from './surface';
import { installOpMethods } from './ops';

installGeneratedMethods();
installOpMethods();

export * from './tensor-class';
