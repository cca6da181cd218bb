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

  # Vertex AI tuning jobs have no resource-level IAM, so the grant is on the project, but of a
  # custom role holding only the tuning-job permissions rather than roles/aiplatform.user (which
  # carries most of Vertex AI). All three start jobs through shared/jobs/start-job.ts: ingest for
  # an approved upload, poll-jobs for a queued job, api for an approved draft. Starting means
  # create, plus list (the label look-up before a retry creates again), get (a job by name) and
  # cancel (a stray job created for a record that had already ended; api's cancel route).
  tuning_job_operators = toset(["ingest", "poll", "api"])

  tuning_job_permissions = [
    "aiplatform.tuningJobs.cancel",
    "aiplatform.tuningJobs.create",
    "aiplatform.tuningJobs.get",
    "aiplatform.tuningJobs.list",
    # Continuous tuning (preTunedModel) names an earlier tuned model, which create reads.
    "aiplatform.models.get",
  ]
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

resource "google_project_iam_custom_role" "tuning_jobs" {
  project     = var.project_id
  role_id     = "${replace(local.prefix, "-", "_")}_tuning_jobs"
  title       = "tunedrop tuning jobs"
  description = "Create, read, list and cancel Vertex AI tuning jobs (tunedrop functions)"
  permissions = local.tuning_job_permissions
  stage       = "GA"

  depends_on = [google_project_service.enabled]
}

resource "google_project_iam_member" "tuning_jobs" {
  for_each = local.tuning_job_operators

  project = var.project_id
  role    = google_project_iam_custom_role.tuning_jobs.id
  member  = google_service_account.runtime[each.key].member
}

# These grants were once roles/aiplatform.user; removing that binding is the point of the custom
# role, so the old addresses are not moved: Terraform deletes them and creates the new ones.

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

# The Eventarc service agent (apis.tf) needs its own role to create a trigger's Pub/Sub topic and
# subscription. Google grants it when the agent is created, but not always before the first trigger
# asks (provider issue 25294); granting it here makes the order explicit.
resource "google_project_iam_member" "eventarc_agent" {
  project = var.project_id
  role    = "roles/eventarc.serviceAgent"
  member  = "serviceAccount:${google_project_service_identity.eventarc.email}"
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

# Object-name prefixes (shared/storage/paths.ts): incoming/ is the users', reports/ and validated/
# are tunedrop's. A prefix grant is a condition on the object's resource name, which needs uniform
# bucket-level access (bucket.tf creates the bucket with it; an existing one must have it).
locals {
  object_prefix_expression = {
    for prefix in ["incoming/", "reports/", "validated/"] :
    prefix => "resource.name.startsWith(\"projects/_/buckets/${local.bucket_name}/objects/${prefix}\")"
  }
}

# ingest-dataset reads uploads and manifests (and a manifest may name any object of the bucket).
resource "google_storage_bucket_iam_member" "ingest_reads_bucket" {
  bucket = local.bucket_name
  role   = "roles/storage.objectViewer"
  member = google_service_account.runtime["ingest"].member
}

# ... and writes only under its own prefixes: validation reports (reports/) and the pinned copy of
# each validated dataset that the provider trains on (validated/<job id>/...). objectUser rather
# than objectCreator because a retried event rewrites the same object, and replacing one needs
# delete; the condition keeps uploads under incoming/ out of reach.
resource "google_storage_bucket_iam_member" "ingest_writes_own_prefixes" {
  for_each = toset(["reports/", "validated/"])

  bucket = local.bucket_name
  role   = "roles/storage.objectUser"
  member = google_service_account.runtime["ingest"].member

  condition {
    title       = "${trimsuffix(each.key, "/")}-only"
    description = "Objects under ${each.key}"
    expression  = local.object_prefix_expression[each.key]
  }
}

moved {
  from = google_storage_bucket_iam_member.ingest_writes_reports
  to   = google_storage_bucket_iam_member.ingest_writes_own_prefixes["reports/"]
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
    expression  = local.object_prefix_expression["reports/"]
  }
}

# `tunedrop jobs continue` (POST /jobs/{id}:continue) drops a continuous-tuning manifest under
# incoming/continue-<job id>-<request id>/, create-if-absent, for ingest to validate like any upload.
resource "google_storage_bucket_iam_member" "api_creates_continue_manifests" {
  bucket = local.bucket_name
  role   = "roles/storage.objectCreator"
  member = google_service_account.runtime["api"].member

  condition {
    title       = "continue-manifests-only"
    description = "Continuous-tuning manifests under incoming/continue-"
    expression  = "resource.name.startsWith(\"projects/_/buckets/${local.bucket_name}/objects/incoming/continue-\")"
  }
}

# People and pipelines that drop datasets: they create objects under incoming/ only, and read the
# reports tunedrop writes about them. They cannot write reports/ or validated/, so what the
# provider trains on is only ever what tunedrop validated and copied.
resource "google_storage_bucket_iam_member" "uploaders_write_incoming" {
  for_each = toset(var.uploaders)

  bucket = local.bucket_name
  role   = "roles/storage.objectCreator"
  member = each.value

  condition {
    title       = "incoming-only"
    description = "Objects under incoming/"
    expression  = local.object_prefix_expression["incoming/"]
  }
}

resource "google_storage_bucket_iam_member" "uploaders_read_reports" {
  for_each = toset(var.uploaders)

  bucket = local.bucket_name
  role   = "roles/storage.objectViewer"
  member = each.value

  condition {
    title       = "reports-only"
    description = "Objects under reports/"
    expression  = local.object_prefix_expression["reports/"]
  }
}

# ---------------------------------------------------------------------------------------------------
# Vertex AI's identities
# ---------------------------------------------------------------------------------------------------

# A tuning job reads its training data as the Vertex AI Secure Fine Tuning Service Agent,
# service-<project number>@gcp-sa-vertex-tune.iam.gserviceaccount.com (Google's service agent list;
# the tuningJobs API: "If not specified, the ... Secure Fine-Tuning Service Agent in the project is
# used"), not as the primary Vertex AI agent (gcp-sa-aiplatform). It reads the pinned copies under
# validated/ and nothing else of the bucket. Google creates this agent on the project's first
# tuning job, and IAM refuses grants to an agent that does not exist yet: locals.tf detects it in
# the project's IAM policy, and these grants wait for it (check block below; docs/deploy.md).
resource "google_storage_bucket_iam_member" "tuning_agent_reads_validated" {
  count = local.tuning_service_agent_exists ? 1 : 0

  bucket = local.bucket_name
  role   = "roles/storage.objectViewer"
  member = local.tuning_service_agent_member

  condition {
    title       = "validated-only"
    description = "Pinned copies of validated datasets, under validated/"
    expression  = local.object_prefix_expression["validated/"]
  }
}

# (The earlier grant of the whole bucket to the primary Vertex AI agent, vertex_agent_reads_datasets,
# is removed on upgrade: that agent does not read tuning data.)

check "tuning_service_agent" {
  assert {
    condition     = local.tuning_service_agent_exists
    error_message = "The Vertex AI tuning service agent ${local.tuning_service_agent} does not exist yet (this project has never run a tuning job), so it has no read access to gs://${local.bucket_name}/validated/ and tuning jobs will fail to read their data. Create it once (docs/deploy.md, \"The tuning service agent\"), then run terraform apply again."
  }
}

# A manifest may ask for a tuning job that runs as one of the operator's service accounts
# (serviceAccount) or is encrypted with one of their keys (kmsKeyName). Only those listed in
# allowed_tuning_service_accounts / allowed_kms_keys are accepted (ingest checks manifests against
# the same lists, TUNEDROP_ALLOWED_*), and each gets exactly the grants the job needs.
locals {
  allowed_service_accounts = {
    for email in var.allowed_tuning_service_accounts : email => {
      id = "projects/${trimsuffix(split("@", email)[1], ".iam.gserviceaccount.com")}/serviceAccounts/${email}"
    }
  }
  # Every function that may create a job acts as the account (iam.serviceAccounts.actAs).
  allowed_service_account_users = {
    for pair in setproduct(keys(local.allowed_service_accounts), tolist(local.tuning_job_operators)) :
    "${pair[0]}/${pair[1]}" => { email = pair[0], runtime = pair[1] }
  }
  # Keys are used by both Vertex AI agents: the primary one for the resources a job creates, the
  # tuning agent for the tuning workload itself.
  kms_key_users = merge(
    { for key in var.allowed_kms_keys : "${key}/vertex" => { key = key, member = "serviceAccount:${google_project_service_identity.aiplatform.email}" } },
    local.tuning_service_agent_exists ? { for key in var.allowed_kms_keys : "${key}/tuning" => { key = key, member = local.tuning_service_agent_member } } : {},
  )
}

resource "google_service_account_iam_member" "operators_act_as_tuning_accounts" {
  for_each = local.allowed_service_account_users

  service_account_id = local.allowed_service_accounts[each.value.email].id
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.runtime[each.value.runtime].member
}

# The tuning service agent mints the account's tokens to run the job as it.
resource "google_service_account_iam_member" "tuning_agent_impersonates_tuning_accounts" {
  for_each = local.tuning_service_agent_exists ? local.allowed_service_accounts : {}

  service_account_id = each.value.id
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.tuning_service_agent_member
}

# A job running as the account reads its training data as that account.
resource "google_storage_bucket_iam_member" "tuning_accounts_read_validated" {
  for_each = local.allowed_service_accounts

  bucket = local.bucket_name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${each.key}"

  condition {
    title       = "validated-only"
    description = "Pinned copies of validated datasets, under validated/"
    expression  = local.object_prefix_expression["validated/"]
  }
}

resource "google_kms_crypto_key_iam_member" "vertex_agents_use_keys" {
  for_each = local.kms_key_users

  crypto_key_id = each.value.key
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = each.value.member
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

  # Recreated whenever the function is replaced (its id is then unknown until the new one exists),
  # so a function recreated on redeploy, a new Cloud Run service under the same name, never runs
  # without this grant. An in-place code update keeps the grant: no window without it.
  lifecycle {
    replace_triggered_by = [google_cloudfunctions2_function.ingest.id]
  }
}

resource "google_cloud_run_service_iam_member" "scheduler_invokes_poll" {
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.poll.name
  role     = "roles/run.invoker"
  member   = google_service_account.scheduler.member

  # Recreated whenever the function is replaced (its id is then unknown until the new one exists),
  # so a function recreated on redeploy, a new Cloud Run service under the same name, never runs
  # without this grant. An in-place code update keeps the grant: no window without it.
  lifecycle {
    replace_triggered_by = [google_cloudfunctions2_function.poll.id]
  }
}

resource "google_cloud_run_service_iam_member" "push_invokes_webhooks" {
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.webhooks.name
  role     = "roles/run.invoker"
  member   = google_service_account.push.member

  # Recreated whenever the function is replaced (its id is then unknown until the new one exists),
  # so a function recreated on redeploy, a new Cloud Run service under the same name, never runs
  # without this grant. An in-place code update keeps the grant: no window without it.
  lifecycle {
    replace_triggered_by = [google_cloudfunctions2_function.webhooks.id]
  }
}

resource "google_cloud_run_service_iam_member" "api_invokers" {
  for_each = toset(var.api_invokers)

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.api.name
  role     = "roles/run.invoker"
  member   = each.value

  # Recreated whenever the function is replaced (its id is then unknown until the new one exists),
  # so a function recreated on redeploy, a new Cloud Run service under the same name, never runs
  # without this grant. An in-place code update keeps the grant: no window without it.
  lifecycle {
    replace_triggered_by = [google_cloudfunctions2_function.api.id]
  }
}

# ---------------------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------------------

# Cloud Functions copies the source into its own bucket, gcf-v2-sources-<project number>-<region>,
# and the build reads it from there: a dedicated build identity without read access there fails
# with "Access to bucket gcf-v2-sources-... denied" (terraform-provider-google issue 20571). That
# bucket does not exist until the first function is created, so a bucket-level grant cannot be
# made before it; this project-level grant is conditioned on that bucket and its objects only.
resource "google_project_iam_member" "build_reads_gcf_sources" {
  project = var.project_id
  role    = "roles/storage.objectViewer"
  member  = google_service_account.build.member

  condition {
    title       = "gcf-v2-sources-only"
    description = "The Cloud Functions source bucket of this project and region"
    expression  = "resource.name == \"projects/_/buckets/${local.gcf_sources_bucket}\" || resource.name.startsWith(\"projects/_/buckets/${local.gcf_sources_bucket}/objects/\")"
  }
}

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
