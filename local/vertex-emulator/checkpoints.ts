/**
 * When a tuning job takes its checkpoints, as Vertex documents it (models/tuning/checkpoints):
 * under 10 epochs about one per epoch; over 10 about 10 evenly spaced plus the final one. With
 * `exportLastCheckpointOnly` only the final one. Each checkpoint is deployed to its own endpoint,
 * and the tuned model's own endpoint is the default (last) checkpoint's.
 */

/** The epochs (1-based, ascending, the last one always `epochCount`) that end in a checkpoint. */
export function checkpointEpochs(epochCount: number, lastOnly: boolean): number[] {
  const epochs = Math.max(1, Math.floor(epochCount));
  if (lastOnly) return [epochs];
  if (epochs <= 10) return Array.from({ length: epochs }, (_, i) => i + 1);
  const spaced = new Set<number>();
  for (let k = 1; k <= 10; k++) spaced.add(Math.max(1, Math.round((k * epochs) / 11)));
  spaced.add(epochs);
  return [...spaced].sort((a, b) => a - b);
}

/** Fraction of the training epochs (0..1] at which the epoch ends. */
export const epochEnd = (epoch: number, epochCount: number) => epoch / Math.max(1, epochCount);
