# Yandex AI Studio, the optional second tuning provider (README "Yandex AI Studio"). Nothing here
# exists unless var.yandex is set. The service-account authorized key lives in a Secret Manager
# secret the operator creates and fills outside Terraform (its value never enters the state, as
# for the webhook secrets); Terraform only lets the three functions that call Yandex read it:
# ingest-dataset (starts jobs), poll-jobs (polls and retries starts) and api (approve, cancel).
# deliver-webhooks never talks to Yandex and gets neither the key nor the folder id.
resource "google_secret_manager_secret_iam_member" "yandex_callers_read_key" {
  for_each = local.yandex_enabled ? toset(local.yandex_callers) : toset([])

  project   = var.project_id
  secret_id = var.yandex.sa_key_secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.runtime[each.value].member

  depends_on = [google_project_service.enabled]
}
