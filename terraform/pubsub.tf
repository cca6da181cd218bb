resource "google_pubsub_topic" "events" {
  project = var.project_id
  name    = var.events_topic
  labels  = local.labels

  # A day of history lets a new subscriber seek back and catch up.
  message_retention_duration = "86400s"

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic" "dead_letter" {
  project = var.project_id
  name    = "${var.events_topic}-dead-letter"
  labels  = local.labels

  message_retention_duration = "604800s"

  depends_on = [google_project_service.enabled]
}

# Pull subscription to inspect (and, if needed, re-drive) events that webhooks failed to deliver.
resource "google_pubsub_subscription" "dead_letter_inspect" {
  project = var.project_id
  name    = "${var.events_topic}-dead-letter-inspect"
  topic   = google_pubsub_topic.dead_letter.id
  labels  = local.labels

  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  retain_acked_messages      = false

  expiration_policy {
    ttl = ""
  }
}

# deliver-webhooks is fed by this push subscription rather than by a Cloud Functions event
# trigger: the subscription an event trigger creates belongs to Eventarc and takes neither a
# dead-letter policy nor a retry policy, while this one has both. The Functions Framework turns the
# wrapped push body into the same google.cloud.pubsub.topic.v1.messagePublished CloudEvent; it reads
# the topic from the push URL's path, hence /projects/P/topics/T on the endpoint.
resource "google_pubsub_subscription" "deliver_webhooks" {
  project = var.project_id
  name    = "${local.prefix}-deliver-webhooks"
  topic   = google_pubsub_topic.events.id
  labels  = local.labels

  # How long Pub/Sub waits for the function's answer: the function's own timeout.
  ack_deadline_seconds = local.webhooks_timeout_seconds

  # Events of one job (ordering key = job id) reach receivers in order: job.running before
  # job.succeeded. A failing event holds back only its own job's later events.
  enable_message_ordering = true

  push_config {
    push_endpoint = "${google_cloudfunctions2_function.webhooks.service_config[0].uri}/${google_pubsub_topic.events.id}"

    oidc_token {
      service_account_email = google_service_account.push.email
      audience              = google_cloudfunctions2_function.webhooks.service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = "${var.webhook_retry_minimum_backoff_seconds}s"
    maximum_backoff = "${var.webhook_retry_maximum_backoff_seconds}s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.dead_letter_max_delivery_attempts
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [
    google_cloud_run_service_iam_member.push_invokes_webhooks,
    google_pubsub_topic_iam_member.pubsub_agent_publishes_dead_letters,
  ]
}
