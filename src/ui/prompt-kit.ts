/**
 * The prompts ui.ts asks with, in a module of their own so that it is loaded only when a question
 * is first asked, and the build bundles it with its dependencies (see scripts/build.mjs).
 */
export { confirm, input, select } from '@inquirer/prompts';
