/** torch.train: the Trainer, its history files and learning-curve chart. */
export { Trainer } from './trainer';
export type { TrainerOptions, FitOptions, StepEvent, Batches } from './options';
export type { Checkpoint } from './checkpoint';
export type { AmpOption } from './amp';
export { learningCurveSvg, learningCurveHtml, confusionMatrixSvg, confusionMatrixHtml, seWeightsSvg, seWeightsHtml } from './chart';
export { evaluationReport, writeEvaluationCharts } from './report';
export type { EvaluationReport } from './report';
export { historyCsv } from './history';
export type { EpochRecord } from './history';
