/** Errors of the data loaders: a missing or damaged file, named. */
import { TorchError } from '../core/errors';

/** A dataset file or folder that is missing, unreadable or damaged; `path` names it. */
export class DataFileError extends TorchError {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}
