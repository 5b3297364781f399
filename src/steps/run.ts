/**
 * The step runner: a command is a list of steps run in order over one context. Each step reads
 * what earlier steps put in the context and adds its own part; a step that returns 'done' ends the
 * run there (e.g. a dry run after the plan is printed). Errors propagate as they are.
 */

/** One stage of a command. Returning 'done' stops the run after it. */
export type Step<C> = (ctx: C) => void | 'done' | Promise<void | 'done'>;

/** Runs `steps` in order over `ctx`, stopping early at a step that returns 'done'; returns the context. */
export async function runSteps<C>(ctx: C, steps: readonly Step<C>[]): Promise<C> {
  for (const step of steps) {
    if ((await step(ctx)) === 'done') break;
  }
  return ctx;
}

/** Several steps as one (e.g. the steps that run under one spinner). */
export function inTurn<C>(...steps: Step<C>[]): Step<C> {
  return async (ctx) => {
    for (const step of steps) {
      if ((await step(ctx)) === 'done') return 'done';
    }
    return undefined;
  };
}
