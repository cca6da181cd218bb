import type { Command } from './index.ts';

// Placeholder until this command lands; replaced by its owner.
export const demo: Command = {
  summary: '(not yet available)',
  async run() {
    console.error('tunedrop demo: not yet available');
    return 2;
  },
};
