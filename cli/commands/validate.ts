import type { Command } from './index.ts';

// Placeholder until this command lands; replaced by its owner.
export const validate: Command = {
  summary: '(not yet available)',
  async run() {
    console.error('tunedrop validate: not yet available');
    return 2;
  },
};
