import { randomBytes } from 'node:crypto';

/** A name no other test uses, so tests sharing one emulator never see each other's data. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}
