# Production you can watch: log-based metrics over the functions' structured logs (the fields are
# listed in docs/operations.md#log-fields-the-metrics-use), alert policies routed to
# notification_channels, and one dashboard.

locals {
  # Cloud Run functions log as the Cloud Run revision of a service named like the function.
  function_log_filter = {
    for key, name in local.function_names :
    key => "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${name}\""
  }
  all_functions_log_filter = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=(${join(" OR ", [for name in values(local.function_names) : "\"${name}\""])})"

  log_metric_type = { for key, metric in google_logging_metric.tunedrop : key => "logging.googleapis.com/user/${metric.name}" }

  # One place for the metrics: name suffix, filter, labels (field each is read from), and for
  # distributions the numeric field and its unit.
  log_metrics = {
    ingest_outcomes = {
      description = "Uploads ingest-dataset finished with, by outcome (job, rejected, waiting, ignored)"
      filter      = "${local.function_log_filter.ingest} AND jsonPayload.outcome=(\"job\" OR \"rejected\" OR \"waiting\" OR \"ignored\")"
      labels      = { outcome = "jsonPayload.outcome" }
      value       = null
      unit        = "1"
    }
    upload_to_job_latency = {
      description = "Time from an upload (object creation) to its job record, as ingest-dataset finished it"
      filter      = "${local.function_log_filter.ingest} AND jsonPayload.outcome=\"job\" AND jsonPayload.uploadToJobMs>=0"
      labels      = {}
      value       = "jsonPayload.uploadToJobMs"
      unit        = "ms"
    }
    job_states = {
      description = "Jobs entering a state (created by ingest, changed by poll-jobs, approved or cancelled by the API), by state"
      filter      = "${local.all_functions_log_filter} AND jsonPayload.jobId:* AND jsonPayload.state:* AND ((jsonPayload.outcome=\"job\" AND jsonPayload.created=true) OR jsonPayload.outcome=(\"state-changed\" OR \"approved\" OR \"cancel-requested\"))"
      labels      = { state = "jsonPayload.state" }
      value       = null
      unit        = "1"
    }
    jobs_stalled = {
      description = "job.stalled events: a job whose state did not change within the stall timeout"
      filter      = "${local.function_log_filter.poll} AND jsonPayload.outcome=\"stalled\""
      labels      = {}
      value       = null
      unit        = "1"
    }
    poll_runs = {
      description = "poll-jobs runs, by outcome (ok, errors: some steps failed, failed: the run failed)"
      filter      = "${local.function_log_filter.poll} AND jsonPayload.outcome=(\"ok\" OR \"errors\" OR \"failed\")"
      labels      = { outcome = "jsonPayload.outcome" }
      value       = null
      unit        = "1"
    }
    quota_waits = {
      description = "Vertex AI refused to start a job that has waited QUEUED for at least alert_quota_wait_minutes"
      filter      = "${local.function_log_filter.poll} AND jsonPayload.outcome=\"start-deferred\" AND jsonPayload.queuedSeconds>=${var.alert_quota_wait_minutes * 60}"
      labels      = {}
      value       = null
      unit        = "1"
    }
    webhook_deliveries = {
      description = "Webhook deliveries by outcome (delivered, failed: Pub/Sub retries, gone, refused, skipped-gone, already-delivered) and event type"
      filter      = "${local.function_log_filter.webhooks} AND jsonPayload.outcome:* AND jsonPayload.endpointId:*"
      labels      = { outcome = "jsonPayload.outcome", event_type = "jsonPayload.eventType" }
      value       = null
      unit        = "1"
    }
    webhook_delivery_latency = {
      description = "Latency of successful webhook deliveries (request to response)"
      filter      = "${local.function_log_filter.webhooks} AND jsonPayload.outcome=\"delivered\""
      labels      = {}
      value       = "jsonPayload.latencyMs"
      unit        = "ms"
    }
  }
}

resource "google_logging_metric" "tunedrop" {
  for_each = local.log_metrics

  project     = var.project_id
  name        = "${local.prefix}_${each.key}"
  description = each.value.description
  filter      = each.value.filter

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = each.value.value != null ? "DISTRIBUTION" : "INT64"
    unit         = each.value.unit
    display_name = "tunedrop ${replace(each.key, "_", " ")}"

    dynamic "labels" {
      for_each = each.value.labels
      content {
        key        = labels.key
        value_type = "STRING"
      }
    }
  }

  label_extractors = { for label, field in each.value.labels : label => "EXTRACT(${field})" }
  value_extractor  = each.value.value != null ? "EXTRACT(${each.value.value})" : null

  dynamic "bucket_options" {
    for_each = each.value.value != null ? [1] : []
    content {
      # 1 ms to about 2.7 hours in 40 buckets growing by half each time.
      exponential_buckets {
        num_finite_buckets = 40
        growth_factor      = 1.5
        scale              = 1
      }
    }
  }

  depends_on = [google_project_service.enabled]
}

# Cloud Monitoring refuses an alert policy on a log-based metric it does not know yet ("Cannot find
# metric(s) that match type"), and a new metric takes a little while to become known.
resource "time_sleep" "log_metrics" {
  create_duration = "60s"

  triggers = { for key, metric in google_logging_metric.tunedrop : key => metric.id }
}

locals {
  alert_documentation_suffix = "Runbook: docs/operations.md (Alerts). Logs: jsonPayload.jobId, jsonPayload.eventType and jsonPayload.outcome are on every line these metrics count."

  # The alerts that fire on any event a metric counts in five minutes: one policy each, one
  # condition per metric (google_monitoring_alert_policy.event_count).
  event_count_alerts = {
    webhooks_dead_lettered = {
      display_name = "tunedrop: webhook events dead-lettered"
      conditions = [
        {
          display_name = "Events moved to ${google_pubsub_topic.dead_letter.name}"
          filter       = "resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=\"${google_pubsub_subscription.deliver_webhooks.name}\" AND metric.type=\"pubsub.googleapis.com/subscription/dead_letter_message_count\""
        },
      ]
      documentation = "An event could not be delivered to a webhook receiver after ${var.dead_letter_max_delivery_attempts} attempts and moved to the dead-letter topic. Inspect it with `gcloud pubsub subscriptions pull ${google_pubsub_subscription.dead_letter_inspect.name} --limit 10`, fix the receiver, then `tunedrop jobs replay JOB_ID`."
    }
    jobs_stalled_or_failed = {
      display_name = "tunedrop: tuning jobs stalled or failed"
      conditions = [
        {
          display_name = "A job entered FAILED"
          filter       = "resource.type=\"cloud_run_revision\" AND metric.type=\"${local.log_metric_type.job_states}\" AND metric.labels.state=\"FAILED\""
        },
        {
          display_name = "A job stalled (no state change for ${var.stall_timeout_minutes} minutes)"
          filter       = "resource.type=\"cloud_run_revision\" AND metric.type=\"${local.log_metric_type.jobs_stalled}\""
        },
      ]
      documentation = "A tuning job failed or stalled. `tunedrop jobs get JOB_ID` shows its error and history; the job id is `jsonPayload.jobId` of the matching log lines (`jsonPayload.outcome=\"stalled\"`, or `jsonPayload.state=\"FAILED\"`)."
    }
    quota_waits = {
      display_name = "tunedrop: jobs waiting for Vertex AI quota"
      conditions = [
        {
          display_name = "A job has waited over ${var.alert_quota_wait_minutes} minutes for Vertex AI to accept it"
          filter       = "resource.type=\"cloud_run_revision\" AND metric.type=\"${local.log_metric_type.quota_waits}\""
        },
      ]
      documentation = "Vertex AI keeps refusing to start a queued job (429 or 5xx). Tuning quota is global per project (`Global concurrent tuning jobs`): check running jobs in Vertex AI, request more quota, or lower max_concurrent_jobs. The job starts by itself once accepted."
    }
  }
}

resource "google_monitoring_alert_policy" "event_count" {
  for_each = local.event_count_alerts

  project               = var.project_id
  display_name          = each.value.display_name
  combiner              = "OR"
  notification_channels = var.notification_channels
  user_labels           = local.labels

  dynamic "conditions" {
    for_each = each.value.conditions
    content {
      display_name = conditions.value.display_name
      condition_threshold {
        filter          = conditions.value.filter
        comparison      = "COMPARISON_GT"
        threshold_value = 0
        duration        = "0s"
        aggregations {
          alignment_period     = "300s"
          per_series_aligner   = "ALIGN_SUM"
          cross_series_reducer = "REDUCE_SUM"
        }
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "${each.value.documentation} ${local.alert_documentation_suffix}"
  }

  # Cloud Monitoring must know the log-based metrics first (time_sleep.log_metrics); the
  # dead-letter alert, on a Pub/Sub metric, only needs the APIs but waits with the others.
  depends_on = [google_project_service.enabled, time_sleep.log_metrics]
}

# These alerts were separate resources before: the moves keep a deployed policy (and its
# incidents) instead of replacing it.
moved {
  from = google_monitoring_alert_policy.webhooks_dead_lettered
  to   = google_monitoring_alert_policy.event_count["webhooks_dead_lettered"]
}

moved {
  from = google_monitoring_alert_policy.jobs_stalled_or_failed
  to   = google_monitoring_alert_policy.event_count["jobs_stalled_or_failed"]
}

moved {
  from = google_monitoring_alert_policy.quota_waits
  to   = google_monitoring_alert_policy.event_count["quota_waits"]
}

resource "google_monitoring_alert_policy" "poll_failing" {
  project               = var.project_id
  display_name          = "tunedrop: poll-jobs failing"
  combiner              = "OR"
  notification_channels = var.notification_channels
  user_labels           = local.labels

  # Failures in a row: no successful run in the window means every run in it failed (or none ran,
  # which Cloud Scheduler should have prevented).
  conditions {
    display_name = "No successful poll run for ${var.alert_poll_failure_minutes} minutes"
    condition_absent {
      filter   = "resource.type=\"cloud_run_revision\" AND metric.type=\"${local.log_metric_type.poll_runs}\" AND metric.labels.outcome=\"ok\""
      duration = "${var.alert_poll_failure_minutes * 60}s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "poll-jobs has not completed a run without errors for ${var.alert_poll_failure_minutes} minutes, so job states and events are not advancing. Look at `jsonPayload.component=\"poll-jobs\" severity>=WARNING` (listing failures name the Vertex AI error; `poll run failed` names Firestore or lease problems). ${local.alert_documentation_suffix}"
  }

  depends_on = [time_sleep.log_metrics]
}

resource "google_monitoring_alert_policy" "ingest_rejections" {
  project               = var.project_id
  display_name          = "tunedrop: many uploads rejected"
  combiner              = "OR"
  notification_channels = var.notification_channels
  user_labels           = local.labels

  conditions {
    display_name = "More than ${var.alert_ingest_rejection_ratio * 100}% of an hour's uploads rejected"
    condition_threshold {
      filter             = "resource.type=\"cloud_run_revision\" AND metric.type=\"${local.log_metric_type.ingest_outcomes}\" AND metric.labels.outcome=\"rejected\""
      denominator_filter = "resource.type=\"cloud_run_revision\" AND metric.type=\"${local.log_metric_type.ingest_outcomes}\" AND metric.labels.outcome=one_of(\"rejected\", \"job\")"
      comparison         = "COMPARISON_GT"
      threshold_value    = var.alert_ingest_rejection_ratio
      duration           = "0s"
      aggregations {
        alignment_period     = "3600s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
      denominator_aggregations {
        alignment_period     = "3600s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Most uploads of the last hour failed validation. Each rejection has a report under `gs://${local.bucket_name}/reports/` and a `tunedrop.v1.dataset.rejected` event; a sudden rise usually means a producer changed its format, or a model was retired (the report says which). ${local.alert_documentation_suffix}"
  }

  depends_on = [time_sleep.log_metrics]
}

# ---------------------------------------------------------------------------------------------------
# Dashboard
# ---------------------------------------------------------------------------------------------------

locals {
  # Log-based counters, summed per period as stacked bars split by one metric label.
  dashboard_bars = {
    for key, bar in {
      job_states         = { period = "3600s", split_by = "state" }
      webhook_deliveries = { period = "300s", split_by = "outcome" }
      ingest_outcomes    = { period = "3600s", split_by = "outcome" }
      poll_runs          = { period = "3600s", split_by = "outcome" }
    } :
    key => [{
      plotType = "STACKED_BAR"
      timeSeriesQuery = {
        timeSeriesFilter = {
          filter      = "metric.type=\"${local.log_metric_type[key]}\" resource.type=\"cloud_run_revision\""
          aggregation = { alignmentPeriod = bar.period, perSeriesAligner = "ALIGN_SUM", crossSeriesReducer = "REDUCE_SUM", groupByFields = ["metric.label.${bar.split_by}"] }
        }
      }
    }]
  }

  # Distributions (latencies), as their p50 and p95 lines.
  dashboard_percentiles = {
    for key in ["upload_to_job_latency", "webhook_delivery_latency"] :
    key => [for p in ["50", "95"] : {
      plotType       = "LINE"
      legendTemplate = "p${p}"
      timeSeriesQuery = {
        timeSeriesFilter = {
          filter      = "metric.type=\"${local.log_metric_type[key]}\" resource.type=\"cloud_run_revision\""
          aggregation = { alignmentPeriod = "300s", perSeriesAligner = "ALIGN_DELTA", crossSeriesReducer = "REDUCE_PERCENTILE_${p}" }
        }
      }
    }]
  }

  # In reading order: two tiles a row.
  dashboard_tiles = [
    { title = "Jobs entering each state (per hour)", dataSets = local.dashboard_bars.job_states },
    { title = "Upload to job latency (p50, p95)", dataSets = local.dashboard_percentiles.upload_to_job_latency },
    { title = "Webhook delivery latency (p50, p95)", dataSets = local.dashboard_percentiles.webhook_delivery_latency },
    { title = "Webhook deliveries by outcome (failed = retried by Pub/Sub)", dataSets = local.dashboard_bars.webhook_deliveries },
    {
      # A Pub/Sub metric, not a log-based one, and one series: no split.
      title = "Webhook events dead-lettered"
      dataSets = [{
        plotType = "STACKED_BAR"
        timeSeriesQuery = {
          timeSeriesFilter = {
            filter      = "metric.type=\"pubsub.googleapis.com/subscription/dead_letter_message_count\" resource.type=\"pubsub_subscription\" resource.label.subscription_id=\"${google_pubsub_subscription.deliver_webhooks.name}\""
            aggregation = { alignmentPeriod = "300s", perSeriesAligner = "ALIGN_SUM", crossSeriesReducer = "REDUCE_SUM" }
          }
        }
      }]
    },
    { title = "Uploads by outcome", dataSets = local.dashboard_bars.ingest_outcomes },
    { title = "poll-jobs runs by outcome", dataSets = local.dashboard_bars.poll_runs },
  ]
}

resource "google_monitoring_dashboard" "tunedrop" {
  project = var.project_id
  dashboard_json = jsonencode({
    displayName = "tunedrop (${local.prefix})"
    mosaicLayout = {
      columns = 12
      tiles = [
        for index, tile in local.dashboard_tiles : {
          xPos   = (index % 2) * 6
          yPos   = floor(index / 2) * 4
          width  = 6
          height = 4
          widget = { title = tile.title, xyChart = { dataSets = tile.dataSets } }
        }
      ]
    }
  })

  depends_on = [google_project_service.enabled]
}
