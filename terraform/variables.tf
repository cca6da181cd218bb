# ---------------------------------------------------------------------------------------------------
# Project and placement
# ---------------------------------------------------------------------------------------------------

variable "project_id" {
  description = "Google Cloud project to deploy into."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a project ID: 6-30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "region" {
  description = "Region of the functions, the scheduler job and the Vertex AI tuning jobs (e.g. us-central1)."
  type        = string
  default     = "us-central1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Google Cloud region such as us-central1 or europe-west4."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name (functions, service accounts, topics' subscriptions)."
  type        = string
  default     = "tunedrop"

  validation {
    # Service account ids are at most 30 characters; the longest suffix used is "-scheduler" (10).
    condition     = can(regex("^[a-z][a-z0-9-]{1,18}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-20 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "labels" {
  description = "Labels added to the resources that support them."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------------------
# Dataset bucket
# ---------------------------------------------------------------------------------------------------

variable "create_bucket" {
  description = "Create the dataset bucket (true) or use an existing one named bucket_name (false)."
  type        = bool
  default     = true
}

variable "bucket_name" {
  description = "Dataset bucket name. Uploads go under incoming/, reports under reports/. Default when creating: PROJECT-tunedrop-datasets."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid Cloud Storage bucket name (3-63 lowercase letters, digits, dots, hyphens, underscores)."
  }

  validation {
    condition     = var.create_bucket || var.bucket_name != null
    error_message = "bucket_name is required when create_bucket is false."
  }
}

variable "bucket_location" {
  description = "Location of a bucket created here (a region or a multi-region such as US). Defaults to region. The storage trigger follows the bucket's location."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_location == null || can(regex("^[A-Za-z0-9-]+$", var.bucket_location))
    error_message = "bucket_location must be a Cloud Storage location such as us-central1, EU or US."
  }
}

variable "validated_retention_days" {
  description = "Days before the pinned copies under validated/ (what tuning jobs read) are deleted by a lifecycle rule of a bucket created here. Uploads and reports are never deleted."
  type        = number
  default     = 30

  validation {
    # A job reads its data when it starts; a job waiting QUEUED or DRAFT longer than this would
    # find its copy gone, so keep well above the longest approval or quota wait.
    condition     = var.validated_retention_days >= 7 && floor(var.validated_retention_days) == var.validated_retention_days
    error_message = "validated_retention_days must be a whole number, 7 or more."
  }
}

variable "uploaders" {
  description = "IAM members who drop datasets: they may create objects under incoming/ and read reports/, nothing else of the bucket."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for member in var.uploaders : can(regex("^(user|group|serviceAccount|domain|principal|principalSet):.+$", member))])
    error_message = "uploaders must be IAM members such as group:ml-engineers@example.com; allUsers and allAuthenticatedUsers are not allowed."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days a bucket created here keeps noncurrent object versions (versioning protects uploads against overwrites). 0 keeps them forever."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_retention_days >= 0 && floor(var.noncurrent_version_retention_days) == var.noncurrent_version_retention_days
    error_message = "noncurrent_version_retention_days must be a whole number, 0 or more."
  }
}

# ---------------------------------------------------------------------------------------------------
# Firestore
# ---------------------------------------------------------------------------------------------------

variable "create_firestore_database" {
  description = "Create the Firestore database (native mode). Set false when the project already has it (for example (default))."
  type        = bool
  default     = true
}

variable "firestore_database" {
  description = "Firestore database id used by the functions."
  type        = string
  default     = "(default)"

  validation {
    condition     = var.firestore_database == "(default)" || can(regex("^[a-z][a-z0-9-]{2,61}[a-z0-9]$", var.firestore_database))
    error_message = "firestore_database must be (default) or 4-63 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "firestore_location" {
  description = "Location of a Firestore database created here (a region or nam5/eur3). Defaults to region."
  type        = string
  default     = null

  validation {
    condition     = var.firestore_location == null || can(regex("^[a-z]+[0-9]*(-[a-z]+[0-9]+)?$", var.firestore_location))
    error_message = "firestore_location must be a Firestore location such as us-central1, nam5 or eur3."
  }
}

variable "jobs_collection" {
  description = "Firestore collection of job records."
  type        = string
  default     = "tunedrop-jobs"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,100}$", var.jobs_collection))
    error_message = "jobs_collection must be 1-100 letters, digits, hyphens or underscores."
  }
}

# ---------------------------------------------------------------------------------------------------
# Tuning defaults and approval
# ---------------------------------------------------------------------------------------------------

variable "default_base_model" {
  description = "Base model for single-file drops (a manifest can choose another)."
  type        = string
  default     = "gemini-3.5-flash"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.@_-]*$", var.default_base_model))
    error_message = "default_base_model must be a Vertex AI model id such as gemini-3.5-flash."
  }
}

variable "default_epoch_count" {
  description = "Epochs for single-file drops; null leaves Vertex AI's default."
  type        = number
  default     = null

  validation {
    condition     = var.default_epoch_count == null || try(var.default_epoch_count >= 1 && var.default_epoch_count <= 100 && floor(var.default_epoch_count) == var.default_epoch_count, false)
    error_message = "default_epoch_count must be a whole number from 1 to 100, or null."
  }
}

variable "default_learning_rate_multiplier" {
  description = "Learning rate multiplier for single-file drops; null leaves Vertex AI's default."
  type        = number
  default     = null

  validation {
    condition     = var.default_learning_rate_multiplier == null || try(var.default_learning_rate_multiplier > 0 && var.default_learning_rate_multiplier <= 10, false)
    error_message = "default_learning_rate_multiplier must be greater than 0 and at most 10, or null."
  }
}

variable "default_adapter_size" {
  description = "LoRA adapter size for single-file drops (ONE, TWO, FOUR, EIGHT, SIXTEEN, THIRTY_TWO); null leaves Vertex AI's default."
  type        = string
  default     = null

  validation {
    condition     = var.default_adapter_size == null || contains(["ONE", "TWO", "FOUR", "EIGHT", "SIXTEEN", "THIRTY_TWO"], coalesce(var.default_adapter_size, "ONE"))
    error_message = "default_adapter_size must be one of ONE, TWO, FOUR, EIGHT, SIXTEEN, THIRTY_TWO, or null."
  }
}

variable "approval_policy" {
  description = "Who approves a job before it starts: auto (nobody), manual (always a person, via the API), budget (auto below approval_budget_usd)."
  type        = string
  default     = "auto"

  validation {
    condition     = contains(["auto", "manual", "budget"], var.approval_policy)
    error_message = "approval_policy must be auto, manual or budget."
  }
}

variable "approval_budget_usd" {
  description = "With approval_policy = budget: jobs estimated above this many USD wait as DRAFT for approval."
  type        = number
  default     = null

  validation {
    condition     = var.approval_budget_usd == null || try(var.approval_budget_usd >= 0, false)
    error_message = "approval_budget_usd must be 0 or more."
  }

  validation {
    condition     = var.approval_policy != "budget" || var.approval_budget_usd != null
    error_message = "approval_policy = budget needs approval_budget_usd."
  }
}

variable "max_concurrent_jobs" {
  description = "Tuning jobs PENDING or RUNNING at once; more wait QUEUED."
  type        = number
  default     = 4

  validation {
    condition     = var.max_concurrent_jobs >= 1 && var.max_concurrent_jobs <= 100 && floor(var.max_concurrent_jobs) == var.max_concurrent_jobs
    error_message = "max_concurrent_jobs must be a whole number from 1 to 100."
  }
}

variable "stall_timeout_minutes" {
  description = "A job whose state has not changed for this long gets one job.stalled event."
  type        = number
  default     = 120

  validation {
    condition     = var.stall_timeout_minutes >= 10 && var.stall_timeout_minutes <= 10080 && floor(var.stall_timeout_minutes) == var.stall_timeout_minutes
    error_message = "stall_timeout_minutes must be a whole number from 10 to 10080 (a week)."
  }
}

variable "event_max_age_minutes" {
  description = "Platform events older than this are logged and acknowledged instead of retried."
  type        = number
  default     = 1440

  validation {
    condition     = var.event_max_age_minutes >= 10 && var.event_max_age_minutes <= 10080 && floor(var.event_max_age_minutes) == var.event_max_age_minutes
    error_message = "event_max_age_minutes must be a whole number from 10 to 10080."
  }
}

# ---------------------------------------------------------------------------------------------------
# Polling
# ---------------------------------------------------------------------------------------------------

variable "poll_schedule" {
  description = "Cron schedule (five fields) on which Cloud Scheduler calls poll-jobs."
  type        = string
  default     = "*/5 * * * *"

  validation {
    condition     = can(regex("^[0-9*,/-]+ [0-9*,/-]+ [0-9*,/?LW-]+ [0-9A-Za-z*,/-]+ [0-9A-Za-z*,/?L#-]+$", trimspace(var.poll_schedule)))
    error_message = "poll_schedule must be a five-field cron expression such as */5 * * * *."
  }
}

variable "poll_time_zone" {
  description = "Time zone (tz database name) of poll_schedule."
  type        = string
  default     = "Etc/UTC"

  validation {
    condition     = can(regex("^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$", var.poll_time_zone))
    error_message = "poll_time_zone must be a tz database name such as Etc/UTC or Europe/Berlin."
  }
}

# ---------------------------------------------------------------------------------------------------
# Events and webhooks
# ---------------------------------------------------------------------------------------------------

variable "events_topic" {
  description = "Pub/Sub topic of the CloudEvents. The dead-letter topic is named after it with -dead-letter."
  type        = string
  default     = "tuning-events"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9._~%+-]{2,230}$", var.events_topic)) && !startswith(var.events_topic, "goog")
    error_message = "events_topic must be a valid Pub/Sub topic name (3-231 characters, starting with a letter, not with goog)."
  }
}

variable "webhook_endpoints" {
  description = <<-EOT
    Webhook receivers. secret_ids are Secret Manager secret ids in this project whose latest version
    holds a whsec_... signing secret (two while a secret rotates); event_types filters the CloudEvent
    types delivered (empty: all).
  EOT
  type = list(object({
    url         = string
    secret_ids  = list(string)
    event_types = optional(list(string), [])
  }))
  default = []

  validation {
    condition     = alltrue([for endpoint in var.webhook_endpoints : can(regex("^https?://[^\\s/]+", endpoint.url))])
    error_message = "Every webhook url must be an absolute http(s) URL."
  }

  validation {
    # The URL travels in a plain environment variable and the Terraform state; a password in it
    # would be a secret outside Secret Manager. Receivers authenticate tunedrop by its signature.
    condition     = alltrue([for endpoint in var.webhook_endpoints : !can(regex("^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@", endpoint.url))])
    error_message = "Webhook urls must not carry user:password@; the webhook signature authenticates tunedrop to the receiver."
  }

  validation {
    condition     = !var.webhook_require_https || alltrue([for endpoint in var.webhook_endpoints : startswith(lower(endpoint.url), "https://")])
    error_message = "With webhook_require_https (the default), every webhook url must be https://."
  }

  validation {
    condition     = alltrue([for endpoint in var.webhook_endpoints : length(endpoint.secret_ids) >= 1 && length(endpoint.secret_ids) <= 2])
    error_message = "Every webhook endpoint needs one secret id, or two while a secret rotates."
  }

  validation {
    condition     = alltrue(flatten([for endpoint in var.webhook_endpoints : [for id in endpoint.secret_ids : can(regex("^[A-Za-z0-9_-]{1,255}$", id))]]))
    error_message = "secret_ids must be Secret Manager secret ids (letters, digits, hyphens, underscores), not full resource names."
  }

  validation {
    condition     = alltrue(flatten([for endpoint in var.webhook_endpoints : [for event_type in endpoint.event_types : can(regex("^tunedrop\\.v1\\.[a-z]+\\.[a-z]+$", event_type))]]))
    error_message = "event_types must be tunedrop CloudEvent types such as tunedrop.v1.job.succeeded."
  }
}

variable "webhook_require_https" {
  description = "Refuse http:// webhook receivers."
  type        = bool
  default     = true
}

variable "webhook_timeout_ms" {
  description = "A receiver slower than this counts as failed and Pub/Sub retries the event."
  type        = number
  default     = 15000

  validation {
    condition     = var.webhook_timeout_ms >= 1000 && var.webhook_timeout_ms <= 60000 && floor(var.webhook_timeout_ms) == var.webhook_timeout_ms
    error_message = "webhook_timeout_ms must be a whole number from 1000 to 60000."
  }
}

variable "dead_letter_max_delivery_attempts" {
  description = "Delivery attempts of an event to deliver-webhooks before it moves to the dead-letter topic (Pub/Sub allows 5-100)."
  type        = number
  default     = 10

  validation {
    condition     = var.dead_letter_max_delivery_attempts >= 5 && var.dead_letter_max_delivery_attempts <= 100 && floor(var.dead_letter_max_delivery_attempts) == var.dead_letter_max_delivery_attempts
    error_message = "dead_letter_max_delivery_attempts must be a whole number from 5 to 100."
  }
}

variable "webhook_retry_minimum_backoff_seconds" {
  description = "Shortest wait before Pub/Sub redelivers a failed event to deliver-webhooks."
  type        = number
  default     = 10

  validation {
    condition     = var.webhook_retry_minimum_backoff_seconds >= 0 && var.webhook_retry_minimum_backoff_seconds <= 600
    error_message = "webhook_retry_minimum_backoff_seconds must be from 0 to 600 (the Pub/Sub limits)."
  }
}

variable "webhook_retry_maximum_backoff_seconds" {
  description = "Longest wait before Pub/Sub redelivers a failed event (the backoff grows exponentially up to it)."
  type        = number
  default     = 600

  validation {
    condition     = var.webhook_retry_maximum_backoff_seconds >= 0 && var.webhook_retry_maximum_backoff_seconds <= 600 && var.webhook_retry_maximum_backoff_seconds >= var.webhook_retry_minimum_backoff_seconds
    error_message = "webhook_retry_maximum_backoff_seconds must be from 0 to 600 and not below the minimum backoff."
  }
}

# ---------------------------------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------------------------------

variable "source_dir" {
  description = "Folder holding the built bundle (npm run build writes dist/functions); relative paths are resolved from this module."
  type        = string
  default     = "../dist/functions"
}

variable "log_level" {
  description = "Lowest severity the functions log."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "NOTICE", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, NOTICE, WARNING or ERROR."
  }
}

variable "ingest_memory" {
  description = "Memory of ingest-dataset: it streams datasets of up to 1 GB and holds the model's tokenizer."
  type        = string
  default     = "2Gi"

  validation {
    condition     = contains(["1Gi", "2Gi", "4Gi", "8Gi"], var.ingest_memory)
    error_message = "ingest_memory must be 1Gi, 2Gi, 4Gi or 8Gi (ingest-dataset runs on two vCPUs, which allow up to 8Gi)."
  }
}

variable "ingest_max_instances" {
  description = "Most ingest-dataset instances at once (each validates one upload)."
  type        = number
  default     = 10

  validation {
    condition     = var.ingest_max_instances >= 1 && var.ingest_max_instances <= 100 && floor(var.ingest_max_instances) == var.ingest_max_instances
    error_message = "ingest_max_instances must be a whole number from 1 to 100."
  }
}

variable "webhooks_max_instances" {
  description = "Most deliver-webhooks instances at once; bounds the request rate your receivers see."
  type        = number
  default     = 10

  validation {
    condition     = var.webhooks_max_instances >= 1 && var.webhooks_max_instances <= 100 && floor(var.webhooks_max_instances) == var.webhooks_max_instances
    error_message = "webhooks_max_instances must be a whole number from 1 to 100."
  }
}

variable "api_max_instances" {
  description = "Most api instances at once."
  type        = number
  default     = 5

  validation {
    condition     = var.api_max_instances >= 1 && var.api_max_instances <= 100 && floor(var.api_max_instances) == var.api_max_instances
    error_message = "api_max_instances must be a whole number from 1 to 100."
  }
}

variable "api_invokers" {
  description = "IAM members allowed to call the admin API (user:, group:, serviceAccount: or domain:). Never public."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for member in var.api_invokers : can(regex("^(user|group|serviceAccount|domain|principal|principalSet):.+$", member))])
    error_message = "api_invokers must be IAM members such as user:alice@example.com or group:ml-platform@example.com; allUsers and allAuthenticatedUsers are not allowed."
  }
}

# ---------------------------------------------------------------------------------------------------
# Manifest service accounts and encryption keys
# ---------------------------------------------------------------------------------------------------

variable "allowed_tuning_service_accounts" {
  description = "Service accounts a manifest may name in serviceAccount (the tuning job runs as it). Each gets: act-as by the functions that start jobs, token creator for the Vertex AI tuning service agent, and object read on validated/. Manifests naming any other are rejected."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for email in var.allowed_tuning_service_accounts : can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\\.iam\\.gserviceaccount\\.com$", email))])
    error_message = "allowed_tuning_service_accounts must be user-managed service account emails (NAME@PROJECT.iam.gserviceaccount.com)."
  }
}

variable "allowed_kms_keys" {
  description = "Cloud KMS keys a manifest may name in kmsKeyName (projects/P/locations/REGION/keyRings/R/cryptoKeys/K, in the tuning region). Both Vertex AI service agents get encrypter/decrypter on each. Manifests naming any other are rejected."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for key in var.allowed_kms_keys : can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", key))])
    error_message = "allowed_kms_keys must be key names: projects/P/locations/L/keyRings/R/cryptoKeys/K."
  }

  validation {
    # Vertex AI: "The key needs to be in the same region as where the compute resource is created."
    condition     = alltrue([for key in var.allowed_kms_keys : try(split("/", key)[3] == var.region, false)])
    error_message = "Every key in allowed_kms_keys must be in the tuning region (locations/<region>), as Vertex AI requires."
  }
}

variable "tuning_service_agent_exists" {
  description = "Whether the Vertex AI tuning service agent (service-NUMBER@gcp-sa-vertex-tune) exists yet. null: detected from the project's IAM policy. Its grants are made only once it exists."
  type        = bool
  default     = null
}

# ---------------------------------------------------------------------------------------------------
# First apply
# ---------------------------------------------------------------------------------------------------

variable "first_apply_wait_seconds" {
  description = "How long to wait after enabling APIs, creating service agents and granting their roles, before building functions and creating the storage trigger (IAM propagation; apis.tf). Only when those change."
  type        = number
  default     = 120

  validation {
    condition     = var.first_apply_wait_seconds >= 0 && var.first_apply_wait_seconds <= 900 && floor(var.first_apply_wait_seconds) == var.first_apply_wait_seconds
    error_message = "first_apply_wait_seconds must be a whole number from 0 to 900."
  }
}

# ---------------------------------------------------------------------------------------------------
# Monitoring
# ---------------------------------------------------------------------------------------------------

variable "notification_channels" {
  description = "Cloud Monitoring notification channels (projects/P/notificationChannels/ID) that every tunedrop alert notifies. Empty: the alerts still open incidents in the console."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for channel in var.notification_channels : can(regex("^projects/[^/]+/notificationChannels/[^/]+$", channel))])
    error_message = "notification_channels must be channel names: projects/P/notificationChannels/ID."
  }
}

variable "alert_poll_failure_minutes" {
  description = "Alert when poll-jobs has had no successful run for this long (every run in it failed, or none ran)."
  type        = number
  default     = 20

  validation {
    condition     = var.alert_poll_failure_minutes >= 5 && var.alert_poll_failure_minutes <= 1380 && floor(var.alert_poll_failure_minutes) == var.alert_poll_failure_minutes
    error_message = "alert_poll_failure_minutes must be a whole number from 5 to 1380 (23 hours)."
  }
}

variable "alert_ingest_rejection_ratio" {
  description = "Alert when more than this share of the uploads processed in an hour were rejected (0-1)."
  type        = number
  default     = 0.5

  validation {
    condition     = var.alert_ingest_rejection_ratio > 0 && var.alert_ingest_rejection_ratio <= 1
    error_message = "alert_ingest_rejection_ratio must be greater than 0 and at most 1."
  }
}

variable "alert_quota_wait_minutes" {
  description = "Alert when a job has waited this long for Vertex AI to accept it (quota or unavailability refusals)."
  type        = number
  default     = 60

  validation {
    condition     = var.alert_quota_wait_minutes >= 5 && floor(var.alert_quota_wait_minutes) == var.alert_quota_wait_minutes
    error_message = "alert_quota_wait_minutes must be a whole number, 5 or more."
  }
}

variable "draft_ttl_hours" {
  description = "A DRAFT nobody approved expires (job.expired) after this many hours."
  type        = number
  default     = 168

  validation {
    condition     = var.draft_ttl_hours >= 1
    error_message = "draft_ttl_hours must be at least 1."
  }
}

variable "auto_approve_max_usd" {
  description = "A job estimated above this many USD becomes a DRAFT even under approval_policy auto; \"off\" disables the ceiling."
  type        = string
  default     = "50"

  validation {
    condition     = var.auto_approve_max_usd == "off" || can(tonumber(var.auto_approve_max_usd))
    error_message = "auto_approve_max_usd must be a number of USD or \"off\"."
  }
}

variable "model_catalog_override" {
  description = "gs://BUCKET/OBJECT of a model catalog override merged over the built-in catalog (docs/models.md); null for none. Grant the functions' service accounts read on it."
  type        = string
  default     = null

  validation {
    condition     = var.model_catalog_override == null || can(regex("^gs://[^/]+/.+", var.model_catalog_override))
    error_message = "model_catalog_override must be a gs://BUCKET/OBJECT URI."
  }
}

variable "yandex" {
  description = <<-EOT
    Yandex AI Studio as a second tuning provider (manifests with "provider": "yandex"). null (the
    default) creates and grants nothing Yandex-specific. folder_id is the Yandex Cloud folder the
    tuning runs in; sa_key_secret_id is a Secret Manager secret id in this project whose latest
    version holds the authorized key JSON of a Yandex service account (`yc iam key create`) with
    the ai.editor role on that folder. endpoint overrides llm.api.cloud.yandex.net:443.
    deployment_id (TUNEDROP_DEPLOYMENT_ID) is the label value that keeps deployments sharing a
    folder apart; unset, it is derived from the project, Firestore database and jobs collection.
  EOT
  type = object({
    folder_id        = string
    sa_key_secret_id = string
    endpoint         = optional(string)
    deployment_id    = optional(string)
  })
  default = null

  validation {
    condition     = var.yandex == null || can(regex("^[a-z0-9]{1,50}$", var.yandex.folder_id))
    error_message = "yandex.folder_id must be a Yandex Cloud folder id (lowercase letters and digits)."
  }

  validation {
    condition     = var.yandex == null || can(regex("^[A-Za-z0-9_-]{1,255}$", var.yandex.sa_key_secret_id))
    error_message = "yandex.sa_key_secret_id must be a Secret Manager secret id, not a full resource name."
  }

  validation {
    condition     = var.yandex == null || try(var.yandex.endpoint, null) == null || can(regex("^[A-Za-z0-9.-]+:[0-9]+$", var.yandex.endpoint))
    error_message = "yandex.endpoint must be host:port."
  }

  validation {
    condition     = var.yandex == null || try(var.yandex.deployment_id, null) == null || can(regex("^[a-z0-9][a-z0-9_-]{0,62}$", var.yandex.deployment_id))
    error_message = "yandex.deployment_id must be 1-63 lowercase letters, digits, _ or -, starting with a letter or digit (a label value)."
  }
}
