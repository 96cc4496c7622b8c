/** torch.optim */
import * as lrScheduler from './lr_scheduler';

export { Optimizer } from './optimizer';
export type { ParamGroup, ParamsArg, OptimizerStateDict, OptimizerState, PreparedStep } from './optimizer';
export { SGD } from './sgd';
export type { SGDOptions } from './sgd';
export { Adam } from './adam';
export type { AdamOptions } from './adam';
export { AdamW } from './adamw';
export { RMSprop } from './rmsprop';
export type { RMSpropOptions } from './rmsprop';
export { Adagrad } from './adagrad';
export type { AdagradOptions } from './adagrad';
export { Adadelta } from './adadelta';
export type { AdadeltaOptions } from './adadelta';
export { Adamax } from './adamax';
export type { AdamaxOptions } from './adamax';
export { NAdam } from './nadam';
export type { NAdamOptions } from './nadam';
export { RAdam } from './radam';
export type { RAdamOptions } from './radam';
export { ASGD } from './asgd';
export type { ASGDOptions } from './asgd';
export { Rprop } from './rprop';
export type { RpropOptions } from './rprop';
export { SingleTensorOptimizer } from './single-tensor';
export type { CommonOptions } from './single-tensor';
export { lrScheduler };
