/** torch.optim */
import * as lrScheduler from './lr_scheduler';

export { Optimizer } from './optimizer';
export type { ParamGroup, ParamsArg, OptimizerStateDict, OptimizerState, PreparedStep } from './optimizer';
export { SGD } from './sgd';
export type { SGDOptions } from './sgd';
export { Adam } from './adam';
export type { AdamOptions } from './adam';
export { AdamW } from './adamw';
export { lrScheduler };
