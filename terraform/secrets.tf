# Webhook signing secrets are created and rotated outside Terraform (their values never enter the
# state); Terraform only lets deliver-webhooks read each of them.
resource "google_secret_manager_secret_iam_member" "webhooks_read_secrets" {
  for_each = toset([for secret in local.webhook_secrets : secret.secret_id])

  project   = var.project_id
  secret_id = each.value
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.runtime["webhooks"].member

  depends_on = [google_project_service.enabled]
}
