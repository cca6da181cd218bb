locals {
  firestore_database = var.create_firestore_database ? google_firestore_database.tunedrop[0].name : var.firestore_database
}

resource "google_firestore_database" "tunedrop" {
  count = var.create_firestore_database ? 1 : 0

  project     = var.project_id
  name        = var.firestore_database
  location_id = coalesce(var.firestore_location, var.region)
  type        = "FIRESTORE_NATIVE"

  # Job records are the ledger that keeps a dataset from being tuned (and billed) twice: keep the
  # database when the rest is destroyed, and refuse to delete it by accident.
  delete_protection_state = "DELETE_PROTECTION_ENABLED"
  deletion_policy         = "ABANDON"

  depends_on = [google_project_service.enabled]
}

# Delivery records carry `expireAt`; Firestore deletes them after it so the ledger stays small.
resource "google_firestore_field" "deliveries_ttl" {
  project    = var.project_id
  database   = local.firestore_database
  collection = local.webhook_deliveries_collection
  field      = "expireAt"

  ttl_config {}

  # A timestamp that only TTL reads needs no single-field index (and indexing it would hotspot).
  index_config {}

  depends_on = [google_project_service.enabled, google_firestore_database.tunedrop]
}

# Composite indexes of the job list queries (shared/jobs/firestore-store.ts: filter by state
# and/or a label pair, newest first).
resource "google_firestore_index" "jobs_by_state" {
  project    = var.project_id
  database   = local.firestore_database
  collection = var.jobs_collection

  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
  fields {
    field_path = "createTime"
    order      = "DESCENDING"
  }
  fields {
    field_path = "__name__"
    order      = "DESCENDING"
  }

  depends_on = [google_project_service.enabled, google_firestore_database.tunedrop]
}

resource "google_firestore_index" "jobs_by_label" {
  project    = var.project_id
  database   = local.firestore_database
  collection = var.jobs_collection

  fields {
    field_path   = "labelPairs"
    array_config = "CONTAINS"
  }
  fields {
    field_path = "createTime"
    order      = "DESCENDING"
  }
  fields {
    field_path = "__name__"
    order      = "DESCENDING"
  }

  depends_on = [google_project_service.enabled, google_firestore_database.tunedrop]
}

resource "google_firestore_index" "jobs_by_label_and_state" {
  project    = var.project_id
  database   = local.firestore_database
  collection = var.jobs_collection

  fields {
    field_path   = "labelPairs"
    array_config = "CONTAINS"
  }
  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
  fields {
    field_path = "createTime"
    order      = "DESCENDING"
  }
  fields {
    field_path = "__name__"
    order      = "DESCENDING"
  }

  depends_on = [google_project_service.enabled, google_firestore_database.tunedrop]
}
