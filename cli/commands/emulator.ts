import type { Command } from './index.ts';

// Placeholder until this command lands; replaced by its owner.
export const emulator: Command = {
  summary: '(not yet available)',
  async run() {
    console.error('tunedrop emulator: not yet available');
    return 2;
  },
};
