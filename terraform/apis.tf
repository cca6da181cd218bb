locals {
  services = toset([
    "aiplatform.googleapis.com",
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "cloudscheduler.googleapis.com",
    "eventarc.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ])
}

resource "google_project_service" "enabled" {
  for_each = local.services

  project = var.project_id
  service = each.value

  # Other workloads in the project may use these APIs; turning them off on destroy would break them.
  disable_on_destroy         = false
  disable_dependent_services = false
}

data "google_project" "this" {
  project_id = var.project_id
}

# Read at plan time to see which service agents already exist (locals.tf).
data "google_project_iam_policy" "current" {
  project = var.project_id
}

# Service agents that are otherwise created lazily, on first use: bindings to an agent that does not
# exist yet fail, so ask for them explicitly (google-beta only in provider 6.x).
resource "google_project_service_identity" "pubsub" {
  provider = google-beta

  project = var.project_id
  service = "pubsub.googleapis.com"

  depends_on = [google_project_service.enabled]
}

resource "google_project_service_identity" "aiplatform" {
  provider = google-beta

  project = var.project_id
  service = "aiplatform.googleapis.com"

  depends_on = [google_project_service.enabled]
}

# Eventarc's own agent creates the trigger's Pub/Sub plumbing; asking for it here (rather than on
# the first trigger) is what the first apply of a fresh project needs (iam.tf grants it its role).
resource "google_project_service_identity" "eventarc" {
  provider = google-beta

  project = var.project_id
  service = "eventarc.googleapis.com"

  depends_on = [google_project_service.enabled]
}

# Creates the Cloud Storage service agent if needed and returns its address.
data "google_storage_project_service_account" "gcs" {
  project = var.project_id

  depends_on = [google_project_service.enabled]
}

# Why wait at all: enabling an API, creating a service agent and granting a role all return before
# the change has reached every Google service. On a fresh project the storage trigger of
# ingest-dataset is then refused ("Permission denied while using the Eventarc Service Agent. If you
# recently started to use Eventarc, it may take a few minutes...", terraform-provider-google issue
# 25294), and a build can fail to read its source. Nothing can be polled for "propagated", so the
# functions wait this long after the APIs, the service agents and the IAM grants they depend on.
# The wait happens when one of those is created or replaced (triggers), not on every apply.
resource "time_sleep" "iam_propagation" {
  create_duration = "${var.first_apply_wait_seconds}s"

  triggers = {
    apis           = join(",", sort([for service in google_project_service.enabled : service.service]))
    eventarc_agent = google_project_service_identity.eventarc.email
    pubsub_agent   = google_project_service_identity.pubsub.email
    eventarc_role  = google_project_iam_member.eventarc_agent.id
    gcs_publisher  = google_project_iam_member.gcs_agent_publishes.id
    receiver       = google_project_iam_member.trigger_receives_events.id
    build_logs     = google_project_iam_member.build.id
    build_sources  = google_storage_bucket_iam_member.build_reads_source.id
    build_gcf      = google_project_iam_member.build_reads_gcf_sources.id
    build_images   = google_artifact_registry_repository_iam_member.build_writes_images.id
  }
}
