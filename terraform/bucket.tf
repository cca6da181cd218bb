locals {
  bucket_name = var.create_bucket ? google_storage_bucket.datasets[0].name : data.google_storage_bucket.existing[0].name

  # Eventarc storage triggers must live in the bucket's location (lowercase: us-central1, us, eu).
  bucket_location = lower(var.create_bucket ? google_storage_bucket.datasets[0].location : data.google_storage_bucket.existing[0].location)
}

resource "google_storage_bucket" "datasets" {
  count = var.create_bucket ? 1 : 0

  project  = var.project_id
  name     = coalesce(var.bucket_name, "${var.project_id}-tunedrop-datasets")
  location = coalesce(var.bucket_location, var.region)
  labels   = local.labels

  # Uniform access is also what makes the prefix-conditioned IAM grants in iam.tf possible.
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  # Never delete uploads with the infrastructure: destroy fails on a non-empty bucket instead.
  force_destroy = false

  versioning {
    enabled = true
  }

  # The pinned copies under validated/ only matter until the provider has read them (a job reads
  # its data when it starts); they are tunedrop's, never the uploads, so they expire. Uploads
  # under incoming/ and the reports are never deleted by a rule.
  lifecycle_rule {
    condition {
      age            = var.validated_retention_days
      matches_prefix = ["validated/"]
    }
    action {
      type = "Delete"
    }
  }

  dynamic "lifecycle_rule" {
    for_each = var.noncurrent_version_retention_days > 0 ? [1] : []
    content {
      condition {
        days_since_noncurrent_time = var.noncurrent_version_retention_days
        with_state                 = "ARCHIVED"
      }
      action {
        type = "Delete"
      }
    }
  }

  depends_on = [google_project_service.enabled]
}

data "google_storage_bucket" "existing" {
  count = var.create_bucket ? 0 : 1

  name = var.bucket_name

  lifecycle {
    # Eventarc delivers Cloud Storage events only to triggers in the bucket's own project.
    postcondition {
      condition     = tostring(self.project_number) == tostring(data.google_project.this.number)
      error_message = "Bucket ${var.bucket_name} belongs to project number ${self.project_number}, not to ${var.project_id} (${data.google_project.this.number}). Eventarc storage triggers cannot receive events from a bucket in another project: use a bucket in ${var.project_id} (or create_bucket = true), or deploy tunedrop into the bucket's project."
    }
  }
}

# The function source lives in its own bucket: every object finalized in the dataset bucket
# triggers ingest-dataset, and a code upload is not a dataset.
resource "google_storage_bucket" "source" {
  project  = var.project_id
  name     = "${var.project_id}-${local.prefix}-source"
  location = var.region
  labels   = local.labels

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true

  # Old bundles are no longer referenced once a new one is deployed.
  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.enabled]
}

data "archive_file" "functions" {
  type        = "zip"
  source_dir  = abspath(startswith(var.source_dir, "/") ? var.source_dir : "${path.module}/${var.source_dir}")
  output_path = "${path.module}/.terraform/tmp/functions-source.zip"
}

resource "google_storage_bucket_object" "source" {
  # The content hash in the name makes a code change a new object, which redeploys every function.
  name         = "functions/${local.prefix}-${data.archive_file.functions.output_md5}.zip"
  bucket       = google_storage_bucket.source.name
  source       = data.archive_file.functions.output_path
  content_type = "application/zip"
}
