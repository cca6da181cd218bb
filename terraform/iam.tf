# One identity per job, each with only what it needs. Grants are on the narrowest resource that
# exists; the few project-level ones say why. No primitive roles, no project-wide run.invoker.

# ---------------------------------------------------------------------------------------------------
# Service accounts
# ---------------------------------------------------------------------------------------------------

locals {
  runtime_accounts = {
    ingest   = "Runs ingest-dataset"
    poll     = "Runs poll-jobs"
    webhooks = "Runs deliver-webhooks"
    api      = "Runs the tunedrop admin API"
  }
}

resource "google_service_account" "runtime" {
  for_each = local.runtime_accounts

  project      = var.project_id
  account_id   = "${local.prefix}-${each.key}"
  display_name = "tunedrop ${each.key}"
  description  = each.value

  depends_on = [google_project_service.enabled]
}

resource "google_service_account" "trigger" {
  project      = var.project_id
  account_id   = "${local.prefix}-trigger"
  display_name = "tunedrop storage trigger"
  description  = "Identity of the Eventarc trigger that calls ingest-dataset"

  depends_on = [google_project_service.enabled]
}

resource "google_service_account" "scheduler" {
  project      = var.project_id
  account_id   = "${local.prefix}-scheduler"
  display_name = "tunedrop scheduler"
  description  = "Identity of the Cloud Scheduler job that calls poll-jobs"

  depends_on = [google_project_service.enabled]
}

resource "google_service_account" "push" {
  project      = var.project_id
  account_id   = "${local.prefix}-push"
  display_name = "tunedrop webhook push"
  description  = "Identity of the Pub/Sub push subscription that calls deliver-webhooks"

  depends_on = [google_project_service.enabled]
}

resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "${local.prefix}-build"
  display_name = "tunedrop build"
  description  = "Cloud Build identity that builds the functions' images"

  depends_on = [google_project_service.enabled]
}

# ---------------------------------------------------------------------------------------------------
# Project-level grants, only where the role has no narrower scope
# ---------------------------------------------------------------------------------------------------

locals {
  # Firestore data access is granted on the project (documents and databases have no IAM policy of
  # their own); the condition narrows each grant to tunedrop's database. webhooks needs it for its
  # delivery ledger (which events each endpoint already got, which endpoints answered 410).
  datastore_users = toset(["ingest", "poll", "webhooks", "api"])

  # Vertex AI tuning jobs have no resource-level IAM: creating, listing and cancelling them is
  # granted on the project.
  aiplatform_users = toset(["ingest", "poll", "api"])
}

resource "google_project_iam_member" "datastore" {
  for_each = local.datastore_users

  project = var.project_id
  role    = "roles/datastore.user"
  member  = google_service_account.runtime[each.key].member

  condition {
    title       = "tunedrop-database-only"
    description = "Only the Firestore database tunedrop uses"
    expression  = "resource.name == \"projects/${var.project_id}/databases/${local.firestore_database}\""
  }
}

resource "google_project_iam_member" "aiplatform" {
  for_each = local.aiplatform_users

  project = var.project_id
  role    = "roles/aiplatform.user"
  member  = google_service_account.runtime[each.key].member
}

# These grants were once one for_each keyed by account and role; keep them in place on upgrade.
moved {
  from = google_project_iam_member.runtime["ingest_aiplatform"]
  to   = google_project_iam_member.aiplatform["ingest"]
}

moved {
  from = google_project_iam_member.runtime["poll_aiplatform"]
  to   = google_project_iam_member.aiplatform["poll"]
}

moved {
  from = google_project_iam_member.runtime["api_aiplatform"]
  to   = google_project_iam_member.aiplatform["api"]
}

# Receiving events from Eventarc is a project-level permission (eventarc.events.receiveEvent has
# no resource to scope to).
resource "google_project_iam_member" "trigger_receives_events" {
  project = var.project_id
  role    = "roles/eventarc.eventReceiver"
  member  = google_service_account.trigger.member
}

# Cloud Storage publishes its notifications to a topic Eventarc creates and names itself, so the
# Cloud Storage service agent needs the publisher role at project level (Eventarc requirement).
resource "google_project_iam_member" "gcs_agent_publishes" {
  project = var.project_id
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}

# Build logs go to Cloud Logging, which has no narrower scope than the project.
resource "google_project_iam_member" "build" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = google_service_account.build.member
}

# ---------------------------------------------------------------------------------------------------
# Dataset bucket
# ---------------------------------------------------------------------------------------------------

# ingest-dataset reads uploads and manifests.
resource "google_storage_bucket_iam_member" "ingest_reads_bucket" {
  bucket = local.bucket_name
  role   = "roles/storage.objectViewer"
  member = google_service_account.runtime["ingest"].member
}

# ... and writes reports, under reports/ only. objectUser rather than objectCreator because a
# retried event rewrites the same report, and replacing an object needs delete; the condition keeps
# uploads under incoming/ out of reach (needs uniform bucket-level access).
resource "google_storage_bucket_iam_member" "ingest_writes_reports" {
  bucket = local.bucket_name
  role   = "roles/storage.objectUser"
  member = google_service_account.runtime["ingest"].member

  condition {
    title       = "reports-only"
    description = "Objects under reports/"
    expression  = "resource.name.startsWith(\"projects/_/buckets/${local.bucket_name}/objects/reports/\")"
  }
}

# The API serves validation reports (object reads by name, no listing), and nothing else: the
# uploaded datasets stay out of its reach.
resource "google_storage_bucket_iam_member" "api_reads_reports" {
  bucket = local.bucket_name
  role   = "roles/storage.objectViewer"
  member = google_service_account.runtime["api"].member

  condition {
    title       = "reports-only"
    description = "Objects under reports/"
    expression  = "resource.name.startsWith(\"projects/_/buckets/${local.bucket_name}/objects/reports/\")"
  }
}

# Vertex AI reads the training data itself, as its service agent.
resource "google_storage_bucket_iam_member" "vertex_agent_reads_datasets" {
  bucket = local.bucket_name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_project_service_identity.aiplatform.email}"
}

# ---------------------------------------------------------------------------------------------------
# Pub/Sub
# ---------------------------------------------------------------------------------------------------

resource "google_pubsub_topic_iam_member" "publishers" {
  for_each = toset(["ingest", "poll", "api"])

  project = var.project_id
  topic   = google_pubsub_topic.events.name
  role    = "roles/pubsub.publisher"
  member  = google_service_account.runtime[each.key].member
}

# Dead-lettering is done by the Pub/Sub service agent: it publishes to the dead-letter topic and
# acknowledges on the source subscription.
resource "google_pubsub_topic_iam_member" "pubsub_agent_publishes_dead_letters" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_project_service_identity.pubsub.email}"
}

resource "google_pubsub_subscription_iam_member" "pubsub_agent_acks_dead_letters" {
  project      = var.project_id
  subscription = google_pubsub_subscription.deliver_webhooks.name
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${google_project_service_identity.pubsub.email}"
}

# Pub/Sub mints the OIDC tokens of push subscriptions and Eventarc triggers; projects created
# before April 2021 need this grant explicitly. Scoped to the two identities it signs for.
resource "google_service_account_iam_member" "pubsub_agent_signs_for" {
  for_each = {
    trigger = google_service_account.trigger.name
    push    = google_service_account.push.name
  }

  service_account_id = each.value
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${google_project_service_identity.pubsub.email}"
}

# ---------------------------------------------------------------------------------------------------
# Who may call which function (run.invoker on that function's Cloud Run service only)
# ---------------------------------------------------------------------------------------------------

resource "google_cloud_run_service_iam_member" "trigger_invokes_ingest" {
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.ingest.name
  role     = "roles/run.invoker"
  member   = google_service_account.trigger.member
}

resource "google_cloud_run_service_iam_member" "scheduler_invokes_poll" {
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.poll.name
  role     = "roles/run.invoker"
  member   = google_service_account.scheduler.member
}

resource "google_cloud_run_service_iam_member" "push_invokes_webhooks" {
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.webhooks.name
  role     = "roles/run.invoker"
  member   = google_service_account.push.member
}

resource "google_cloud_run_service_iam_member" "api_invokers" {
  for_each = toset(var.api_invokers)

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.api.name
  role     = "roles/run.invoker"
  member   = each.value
}

# ---------------------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------------------

resource "google_storage_bucket_iam_member" "build_reads_source" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.build.member
}

resource "google_artifact_registry_repository_iam_member" "build_writes_images" {
  project    = var.project_id
  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.build.member
}
