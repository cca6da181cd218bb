output "bucket" {
  description = "Dataset bucket: upload to gs://BUCKET/incoming/, reports appear under reports/."
  value       = local.bucket_name
}

output "upload_prefix" {
  description = "Where to drop datasets."
  value       = "gs://${local.bucket_name}/incoming/"
}

output "events_topic" {
  description = "Pub/Sub topic of tunedrop's CloudEvents; subscribe your own consumers to it."
  value       = google_pubsub_topic.events.id
}

output "dead_letter_topic" {
  description = "Events webhooks could not deliver after the maximum attempts."
  value       = google_pubsub_topic.dead_letter.id
}

output "dead_letter_subscription" {
  description = "Pull subscription to inspect the dead letters."
  value       = google_pubsub_subscription.dead_letter_inspect.id
}

output "api_url" {
  description = "Admin API URL (IAM-protected; call it with an identity token)."
  value       = google_cloudfunctions2_function.api.service_config[0].uri
}

output "function_urls" {
  description = "URL of each function."
  value = {
    ingest   = google_cloudfunctions2_function.ingest.service_config[0].uri
    poll     = google_cloudfunctions2_function.poll.service_config[0].uri
    webhooks = google_cloudfunctions2_function.webhooks.service_config[0].uri
    api      = google_cloudfunctions2_function.api.service_config[0].uri
  }
}

output "firestore_database" {
  description = "Firestore database of the job records."
  value       = local.firestore_database
}

output "service_accounts" {
  description = "Email of every identity tunedrop runs as."
  value = merge(
    { for key, account in google_service_account.runtime : key => account.email },
    {
      trigger   = google_service_account.trigger.email
      scheduler = google_service_account.scheduler.email
      push      = google_service_account.push.email
      build     = google_service_account.build.email
    },
  )
}

output "source_object" {
  description = "The deployed source bundle (its name carries the content hash)."
  value       = "gs://${google_storage_bucket.source.name}/${google_storage_bucket_object.source.name}"
}

output "tuning_service_agent" {
  description = "The Vertex AI tuning service agent that reads validated/, and whether it exists yet (its grants wait for it)."
  value = {
    email  = local.tuning_service_agent
    exists = local.tuning_service_agent_exists
  }
}

output "dashboard" {
  description = "Cloud Monitoring dashboard of jobs, uploads, polls and webhook deliveries."
  value       = "https://console.cloud.google.com/monitoring/dashboards/builder/${element(split("/", google_monitoring_dashboard.tunedrop.id), length(split("/", google_monitoring_dashboard.tunedrop.id)) - 1)}?project=${var.project_id}"
}
