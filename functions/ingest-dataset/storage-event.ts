/**
 * The data of a `google.cloud.storage.object.v1.finalized` CloudEvent (Cloud Storage's
 * StorageObjectData), as Eventarc delivers it. int64 fields arrive as strings; numbers are
 * accepted too and turned into strings, so a generation is never rounded.
 */
import { z } from 'zod';

const Int64 = z
  .union([z.string().regex(/^\d+$/, 'must be a decimal integer'), z.number().int().nonnegative()])
  .transform(String);

export const StorageObjectData = z.object({
  bucket: z.string().min(1),
  name: z.string().min(1),
  generation: Int64,
  metageneration: Int64.default('1'),
  size: Int64.optional(),
  contentType: z.string().optional(),
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
  timeCreated: z.string().optional(),
  updated: z.string().optional(),
});
export type StorageObjectData = z.infer<typeof StorageObjectData>;

export const finalizedEventType = 'google.cloud.storage.object.v1.finalized';
