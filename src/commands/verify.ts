import { OperationError } from '../errors.js';
import type { Options } from '../options.js';
import type { Ui } from '../ui/ui.js';

export async function runVerify(_options: Options, _ui: Ui): Promise<void> {
  throw new OperationError('"rhacs-sts verify" is not implemented yet.');
}
