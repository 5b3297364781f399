/**
 * The one confirmation before changes are applied (init, uninstall): --yes applies without asking
 * (the outage a restart causes is still said); not at a terminal, applying needs --yes; at a
 * terminal a person answers, and "no" declines (exit 130).
 */
import { DeclinedError, InputError } from '../errors.js';
import type { Ui } from '../ui/ui.js';

export interface ConfirmWording {
  /** The question, given the number of changes and the outage warning (if any). */
  question(count: number, outage?: string): string;
  /** The command that shows the plan, named in the hint when --yes is missing. */
  review: string;
  /** A blank line before the question (after the plan and the IAM changes). */
  blankLine: boolean;
}

export async function confirmChanges(options: { yes: boolean }, ui: Ui, count: number, wording: ConfirmWording, outage?: string): Promise<void> {
  if (options.yes) {
    if (outage) ui.info(`${outage}.`);
    return;
  }
  if (!ui.interactive) {
    throw new InputError([{ source: '--yes', message: `is required to apply ${count} change${count === 1 ? '' : 's'} when not running at a terminal` }],
      `Review the plan with "${wording.review}", then re-run with --yes.`);
  }
  if (wording.blankLine) ui.info('');
  const ok = await ui.confirm(wording.question(count, outage), false);
  if (!ok) throw new DeclinedError();
}
