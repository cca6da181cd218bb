/**
 * The report ingest writes for every upload it acts on, at `reports/<object path>.report.json`.
 * A manifest gets ONE report holding its own problems and the report of each dataset it names
 * (training, validation), so a folder drop is judged in one place.
 */
import type { ApprovalPolicy } from '../../shared/config/index.ts';
import type { ValidationReport } from '../../shared/dataset/index.ts';
import type { CostEstimate, TuningSpec } from '../../shared/jobs/model.ts';

export const reportFormatVersion = 1;

export interface DatasetReport extends ValidationReport {
  /** What the user named. */
  uri: string;
  /** tunedrop's copy of one generation of it: what was validated and what the provider reads. */
  pinned?: { uri: string; generation: string; sourceGeneration: string };
}

export interface IngestReport {
  reportFormatVersion: number;
  /** accepted: a job exists (started or draft); rejected: no job; waiting: a manifest's dataset is not uploaded yet. */
  status: 'accepted' | 'rejected' | 'waiting';
  kind: 'dataset' | 'manifest';
  object: string;
  generation: string;
  /** The job id (for rejected and waiting uploads: the id the job would have). */
  jobId: string;
  time: string;
  /** Problems with the settings (manifest, metadata overrides, preflight), `/field: message`. */
  problems: string[];
  /** Things that did not stop the job, e.g. a looser approval policy that was not applied. */
  notes: string[];
  spec?: TuningSpec;
  approval?: { policy: ApprovalPolicy; required: boolean; reason?: string };
  estimate?: CostEstimate;
  /** gs:// URIs a manifest names that do not exist yet. */
  missing?: string[];
  datasets: { training?: DatasetReport; validation?: DatasetReport };
}
