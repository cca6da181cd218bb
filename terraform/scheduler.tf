resource "google_cloud_scheduler_job" "poll" {
  project     = var.project_id
  region      = var.region
  name        = "${local.prefix}-poll-jobs"
  description = "Calls poll-jobs to refresh active tuning jobs"
  schedule    = var.poll_schedule
  time_zone   = var.poll_time_zone

  # A poll pass may take up to the function's timeout; the next tick retries anyway.
  attempt_deadline = "${local.poll_timeout_seconds + 20}s"

  retry_config {
    retry_count          = 1
    min_backoff_duration = "30s"
    max_backoff_duration = "60s"
  }

  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.poll.service_config[0].uri
    headers = {
      "Content-Type" = "application/json"
    }
    body = base64encode("{}")

    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = google_cloudfunctions2_function.poll.service_config[0].uri
    }
  }

  depends_on = [google_cloud_run_service_iam_member.scheduler_invokes_poll]
}
