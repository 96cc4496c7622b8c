/**
 * Errors. Every failure inside LibTorch reaches JavaScript as a TorchError carrying LibTorch's message
 * (without its C++ backtrace). LibTorch's error kinds map to subclasses a caller can test with
 * `instanceof`, like Python's IndexError, ValueError, ... raised by PyTorch. Bad arguments caught before
 * they reach LibTorch are plain TypeError / RangeError naming the argument.
 */
export class TorchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
/** An index out of range (Python's IndexError in PyTorch). */
export class TorchIndexError extends TorchError {}
/** A value LibTorch refuses (Python's ValueError). */
export class TorchValueError extends TorchError {}
/** A dtype LibTorch refuses for the op (Python's TypeError). */
export class TorchTypeError extends TorchError {}
/** An op without a kernel for these arguments or this device (NotImplementedError). */
export class TorchNotImplementedError extends TorchError {}
/** An allocation failed (torch.OutOfMemoryError). */
export class TorchOutOfMemoryError extends TorchError {}

/** The classes the native side throws, by LibTorch error kind (native/errors.cc). */
export const nativeErrorClasses = {
  TorchError,
  IndexError: TorchIndexError,
  ValueError: TorchValueError,
  TypeError: TorchTypeError,
  NotImplementedError: TorchNotImplementedError,
  OutOfMemoryError: TorchOutOfMemoryError,
};

const warned = new Set<string>();
/** process.emitWarning once per process for each key (Python's warnings show a warning once per place). */
export function warnOnce(key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  process.emitWarning(message);
}

/** Appends the caller's stack (captured before an await) to an error thrown later, off the JS thread. */
export function withCallerStack(err: unknown, callerStack: string | undefined): unknown {
  if (err instanceof Error && callerStack) {
    err.stack = `${err.stack ?? err.message}\n    --- awaited from ---\n${callerStack.split('\n').slice(1).join('\n')}`;
  }
  return err;
}

/**
 * An error's message in one line, for a report that goes on one line: its first line, except for a
 * TorchScript interpreter failure, whose first line only says that something failed ("The following
 * operation failed in the TorchScript interpreter.") and whose cause is the traceback's last error line.
 */
export function oneLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const lines = message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (/failed in the TorchScript interpreter/.test(lines[0] ?? '')) {
    const cause = lines
      .slice(1)
      .reverse()
      .find((l) => /^[\w.]*(Error|Exception)\b.*:/.test(l));
    if (cause) return cause;
  }
  return lines[0] ?? message;
}
