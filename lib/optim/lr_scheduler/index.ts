/** torch.optim.lr_scheduler */
export { LRScheduler } from './base';
export type { AnyOptimizer } from './base';
export * from './simple';
export * from './cyclic';
export { ReduceLROnPlateau } from './plateau';
export type { PlateauFields } from './plateau';
export { SequentialLR, ChainedScheduler } from './composite';
