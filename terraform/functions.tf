locals {
  # Event-driven functions may run up to 540 s; HTTP ones up to 3600 s.
  ingest_timeout_seconds   = 540
  poll_timeout_seconds     = 300
  webhooks_timeout_seconds = 120
  api_timeout_seconds      = 60

  source_storage = {
    bucket = google_storage_bucket.source.name
    object = google_storage_bucket_object.source.name
  }
}

# Images of the builds, in a repository of our own so the build identity can write there only.
resource "google_artifact_registry_repository" "functions" {
  project       = var.project_id
  location      = var.region
  repository_id = "${local.prefix}-functions"
  format        = "DOCKER"
  description   = "Images built from the tunedrop functions bundle"
  labels        = local.labels

  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 10
    }
  }

  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      older_than = "2592000s"
    }
  }

  depends_on = [google_project_service.enabled]
}

# ingest-dataset: storage finalized CloudEvent. It streams one dataset of up to 1 GB per instance
# (concurrency 1): the stream keeps memory flat, but the model tokenizer and parse buffers need room,
# hence 2Gi by default, and 540 s (the event-function maximum) to read a large file end to end.
resource "google_cloudfunctions2_function" "ingest" {
  project     = var.project_id
  location    = var.region
  name        = local.function_names.ingest
  description = "Validates an uploaded dataset and starts one Vertex AI tuning job"
  labels      = local.labels

  build_config {
    runtime           = "nodejs22"
    entry_point       = "ingestDataset"
    service_account   = google_service_account.build.id
    docker_repository = google_artifact_registry_repository.functions.id
    source {
      storage_source {
        bucket = local.source_storage.bucket
        object = local.source_storage.object
      }
    }
  }

  service_config {
    available_memory = var.ingest_memory
    # Two: the validator runs on the calling thread plus one worker thread when the instance has
    # more than one CPU (shared/dataset/validate.ts, defaultWorkers); on one CPU it uses no worker
    # and validates at about half the speed.
    available_cpu                    = "2"
    timeout_seconds                  = local.ingest_timeout_seconds
    max_instance_count               = var.ingest_max_instances
    min_instance_count               = 0
    max_instance_request_concurrency = 1
    # Eventarc in the same project counts as internal traffic.
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.runtime["ingest"].email
    environment_variables          = local.yandex_callers_env
    dynamic "secret_environment_variables" {
      for_each = local.yandex_key_secrets
      content {
        key        = secret_environment_variables.value.env
        project_id = var.project_id
        secret     = secret_environment_variables.value.secret_id
        version    = "latest"
      }
    }
  }

  event_trigger {
    # Storage events are delivered in the bucket's location, which may differ from the function's.
    trigger_region        = local.bucket_location
    event_type            = "google.cloud.storage.object.v1.finalized"
    retry_policy          = "RETRY_POLICY_RETRY"
    service_account_email = google_service_account.trigger.email
    # Storage triggers filter on the bucket only (Eventarc has no object-name filter for direct
    # Cloud Storage events), so every finalized object reaches the function, tunedrop's own
    # reports/ and validated/ copies included; ingest-dataset acknowledges everything outside
    # incoming/ before it reads anything (functions/ingest-dataset/routing.ts).
    event_filters {
      attribute = "bucket"
      value     = local.bucket_name
    }
  }

  depends_on = [
    google_project_service.enabled,
    google_project_iam_member.build,
    google_artifact_registry_repository_iam_member.build_writes_images,
    google_storage_bucket_iam_member.build_reads_source,
    google_project_iam_member.build_reads_gcf_sources,
    google_project_iam_member.gcs_agent_publishes,
    google_project_iam_member.trigger_receives_events,
    google_project_iam_member.eventarc_agent,
    google_service_account_iam_member.pubsub_agent_signs_for,
    time_sleep.iam_propagation,
    # The Yandex key must be readable before an instance starts with it (yandex.tf).
    google_secret_manager_secret_iam_member.yandex_callers_read_key,
  ]
}

# poll-jobs: HTTP, called by Cloud Scheduler. One instance at most: a poll pass walks every active
# job, and two passes at once would only duplicate Vertex AI calls.
resource "google_cloudfunctions2_function" "poll" {
  project     = var.project_id
  location    = var.region
  name        = local.function_names.poll
  description = "Refreshes active tuning jobs and publishes their state changes"
  labels      = local.labels

  build_config {
    runtime           = "nodejs22"
    entry_point       = "pollJobs"
    service_account   = google_service_account.build.id
    docker_repository = google_artifact_registry_repository.functions.id
    source {
      storage_source {
        bucket = local.source_storage.bucket
        object = local.source_storage.object
      }
    }
  }

  service_config {
    available_memory                 = "512Mi"
    available_cpu                    = "1"
    timeout_seconds                  = local.poll_timeout_seconds
    max_instance_count               = 1
    min_instance_count               = 0
    max_instance_request_concurrency = 1
    # Cloud Scheduler in the same project, calling the default run.app URL (as scheduler.tf does),
    # counts as internal traffic; nothing on the internet needs to reach the poller. run.invoker is
    # still required on top (the scheduler's identity only).
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.runtime["poll"].email
    environment_variables          = local.yandex_callers_env
    dynamic "secret_environment_variables" {
      for_each = local.yandex_key_secrets
      content {
        key        = secret_environment_variables.value.env
        project_id = var.project_id
        secret     = secret_environment_variables.value.secret_id
        version    = "latest"
      }
    }
  }

  depends_on = [
    google_project_service.enabled,
    google_project_iam_member.build,
    google_artifact_registry_repository_iam_member.build_writes_images,
    google_storage_bucket_iam_member.build_reads_source,
    google_project_iam_member.build_reads_gcf_sources,
    time_sleep.iam_propagation,
    # The Yandex key must be readable before an instance starts with it (yandex.tf).
    google_secret_manager_secret_iam_member.yandex_callers_read_key,
  ]
}

# deliver-webhooks: Pub/Sub push (pubsub.tf) of the events topic. Deploys without an event
# trigger; the code registers it as a CloudEvent function, and the Functions Framework converts the
# push body. Its timeout covers a few receivers at webhook_timeout_ms each.
resource "google_cloudfunctions2_function" "webhooks" {
  project     = var.project_id
  location    = var.region
  name        = local.function_names.webhooks
  description = "Delivers tunedrop CloudEvents to webhook receivers, signed"
  labels      = local.labels

  build_config {
    runtime           = "nodejs22"
    entry_point       = "deliverWebhooks"
    service_account   = google_service_account.build.id
    docker_repository = google_artifact_registry_repository.functions.id
    source {
      storage_source {
        bucket = local.source_storage.bucket
        object = local.source_storage.object
      }
    }
  }

  service_config {
    available_memory                 = "512Mi"
    available_cpu                    = "1"
    timeout_seconds                  = local.webhooks_timeout_seconds
    max_instance_count               = var.webhooks_max_instances
    min_instance_count               = 0
    max_instance_request_concurrency = 10
    # Pub/Sub push from the same project counts as internal traffic.
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.runtime["webhooks"].email
    environment_variables          = local.webhooks_env

    dynamic "secret_environment_variables" {
      for_each = local.webhook_secrets
      content {
        key        = secret_environment_variables.value.env
        project_id = var.project_id
        secret     = secret_environment_variables.value.secret_id
        # Resolved when an instance starts: a new secret version is used by new instances.
        version = "latest"
      }
    }
  }

  depends_on = [
    google_project_service.enabled,
    google_project_iam_member.build,
    google_artifact_registry_repository_iam_member.build_writes_images,
    google_storage_bucket_iam_member.build_reads_source,
    google_project_iam_member.build_reads_gcf_sources,
    google_secret_manager_secret_iam_member.webhooks_read_secrets,
    time_sleep.iam_propagation,
  ]
}

# api: HTTP admin API used by the tunedrop CLI from people's machines, so reachable from the
# internet but IAM-protected: only api_invokers hold run.invoker on it.
resource "google_cloudfunctions2_function" "api" {
  project     = var.project_id
  location    = var.region
  name        = local.function_names.api
  description = "tunedrop admin API: list, approve, cancel and replay jobs"
  labels      = local.labels

  build_config {
    runtime           = "nodejs22"
    entry_point       = "api"
    service_account   = google_service_account.build.id
    docker_repository = google_artifact_registry_repository.functions.id
    source {
      storage_source {
        bucket = local.source_storage.bucket
        object = local.source_storage.object
      }
    }
  }

  service_config {
    available_memory                 = "512Mi"
    available_cpu                    = "1"
    timeout_seconds                  = local.api_timeout_seconds
    max_instance_count               = var.api_max_instances
    min_instance_count               = 0
    max_instance_request_concurrency = 20
    # The CLI calls it from people's machines, so it is reachable from the internet; Cloud Run
    # rejects every caller without run.invoker on this service (api_invokers only, never public).
    ingress_settings               = "ALLOW_ALL"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.runtime["api"].email
    environment_variables          = local.yandex_callers_env
    dynamic "secret_environment_variables" {
      for_each = local.yandex_key_secrets
      content {
        key        = secret_environment_variables.value.env
        project_id = var.project_id
        secret     = secret_environment_variables.value.secret_id
        version    = "latest"
      }
    }
  }

  depends_on = [
    google_project_service.enabled,
    google_project_iam_member.build,
    google_artifact_registry_repository_iam_member.build_writes_images,
    google_storage_bucket_iam_member.build_reads_source,
    google_project_iam_member.build_reads_gcf_sources,
    time_sleep.iam_propagation,
    # The Yandex key must be readable before an instance starts with it (yandex.tf).
    google_secret_manager_secret_iam_member.yandex_callers_read_key,
  ]
}
