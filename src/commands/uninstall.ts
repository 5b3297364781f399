import { OperationError } from '../errors.js';
import type { Options } from '../options.js';
import type { Ui } from '../ui/ui.js';

export async function runUninstall(_options: Options, _ui: Ui): Promise<void> {
  throw new OperationError('"rhacs-sts uninstall" is not implemented yet.');
}
