/** `floor-process FILE`: the parse floor alone in a process, for end-to-end timing (bench/cli). */
import { floor } from '../validate/floor.ts';

const file = process.argv[2];
if (!file) {
  console.error('usage: floor-process FILE');
  process.exit(2);
}
const { bytes, examples } = await floor(file);
console.log(JSON.stringify({ bytes, examples }));
