locals {
  prefix = var.name_prefix

  labels = merge({ app = "tunedrop", managed-by = "terraform" }, var.labels)

  project_number = data.google_project.this.number

  # Where Cloud Functions keeps a copy of each function's source for the build (iam.tf).
  gcf_sources_bucket = "gcf-v2-sources-${local.project_number}-${var.region}"

  # The Vertex AI Secure Fine Tuning Service Agent: tuning jobs read their data as this identity.
  # Google creates it on the project's first tuning job (not when the API is enabled), and then
  # grants it roles/aiplatform.tuningServiceAgent on the project; that binding is how its existence
  # is detected here, unless tuning_service_agent_exists says so explicitly.
  tuning_service_agent        = "service-${local.project_number}@gcp-sa-vertex-tune.iam.gserviceaccount.com"
  tuning_service_agent_member = "serviceAccount:${local.tuning_service_agent}"
  tuning_service_agent_exists = coalesce(
    var.tuning_service_agent_exists,
    strcontains(data.google_project_iam_policy.current.policy_data, "\"${local.tuning_service_agent_member}\""),
  )

  # Collections the code uses besides the jobs collection (shared/webhooks/firestore-state-store.ts).
  webhook_deliveries_collection = "tunedrop-webhook-deliveries"

  function_names = {
    ingest   = "${local.prefix}-ingest-dataset"
    poll     = "${local.prefix}-poll-jobs"
    webhooks = "${local.prefix}-deliver-webhooks"
    api      = "${local.prefix}-api"
  }

  # Each webhook secret reaches deliver-webhooks as an environment variable filled from Secret
  # Manager; TUNEDROP_WEBHOOKS names those variables, never the secrets' values.
  webhook_secrets = flatten([
    for i, endpoint in var.webhook_endpoints : [
      for j, secret_id in endpoint.secret_ids : {
        env       = "WEBHOOK_SECRET_${i}_${j}"
        secret_id = secret_id
      }
    ]
  ])

  webhooks_json = jsonencode([
    for i, endpoint in var.webhook_endpoints : {
      url       = endpoint.url
      secretEnv = [for j, _ in endpoint.secret_ids : "WEBHOOK_SECRET_${i}_${j}"]
      types     = endpoint.event_types
    }
  ])

  # Settings every function reads (shared/config). Optional ones are left out when unset, so the
  # code's own defaults (Vertex AI's) apply.
  common_env = merge(
    {
      GOOGLE_CLOUD_PROJECT           = var.project_id
      TUNEDROP_REGION                = var.region
      TUNEDROP_BUCKET                = local.bucket_name
      TUNEDROP_FIRESTORE_DATABASE    = var.firestore_database
      TUNEDROP_JOBS_COLLECTION       = var.jobs_collection
      TUNEDROP_EVENTS_TOPIC          = google_pubsub_topic.events.name
      TUNEDROP_DEFAULT_BASE_MODEL    = var.default_base_model
      TUNEDROP_APPROVAL              = var.approval_policy
      TUNEDROP_MAX_CONCURRENT_JOBS   = tostring(var.max_concurrent_jobs)
      TUNEDROP_STALL_TIMEOUT_MINUTES = tostring(var.stall_timeout_minutes)
      TUNEDROP_EVENT_MAX_AGE_MINUTES = tostring(var.event_max_age_minutes)
      TUNEDROP_LOG_LEVEL             = var.log_level
      # A manifest's serviceAccount / kmsKeyName must be one of these (comma-separated); "none"
      # when the list is empty, so a manifest naming any is refused at validation with a clear
      # message, rather than failing later at Vertex AI for want of a grant (iam.tf).
      TUNEDROP_ALLOWED_SERVICE_ACCOUNTS = coalesce(join(",", var.allowed_tuning_service_accounts), "none")
      TUNEDROP_ALLOWED_KMS_KEYS         = coalesce(join(",", var.allowed_kms_keys), "none")
      # The bundle ships its source map: stack traces in the logs point at the TypeScript.
      NODE_OPTIONS = "--enable-source-maps"
    },
    var.default_epoch_count == null ? {} : { TUNEDROP_DEFAULT_EPOCH_COUNT = tostring(var.default_epoch_count) },
    var.default_learning_rate_multiplier == null ? {} : { TUNEDROP_DEFAULT_LEARNING_RATE_MULTIPLIER = tostring(var.default_learning_rate_multiplier) },
    var.default_adapter_size == null ? {} : { TUNEDROP_DEFAULT_ADAPTER_SIZE = var.default_adapter_size },
    var.approval_budget_usd == null ? {} : { TUNEDROP_APPROVAL_BUDGET_USD = tostring(var.approval_budget_usd) },
    {
      TUNEDROP_DRAFT_TTL_HOURS      = tostring(var.draft_ttl_hours)
      TUNEDROP_AUTO_APPROVE_MAX_USD = var.auto_approve_max_usd
    },
    # An operator's model catalog override (docs/models.md), read by the functions' service accounts.
    var.model_catalog_override == null ? {} : { TUNEDROP_MODEL_CATALOG = var.model_catalog_override },
  )

  # Yandex AI Studio (yandex.tf): only the functions that call it get its settings and key.
  yandex_enabled = var.yandex != null
  yandex_callers = ["ingest", "poll", "api"]
  yandex_env = local.yandex_enabled ? merge(
    { TUNEDROP_YANDEX_FOLDER_ID = var.yandex.folder_id },
    try(var.yandex.endpoint, null) == null ? {} : { TUNEDROP_YANDEX_ENDPOINT = var.yandex.endpoint },
    try(var.yandex.deployment_id, null) == null ? {} : { TUNEDROP_DEPLOYMENT_ID = var.yandex.deployment_id },
  ) : {}
  yandex_callers_env = merge(local.common_env, local.yandex_env)
  # The key reaches those functions as TUNEDROP_YANDEX_SA_KEY, filled from Secret Manager.
  yandex_key_secrets = local.yandex_enabled ? [{ env = "TUNEDROP_YANDEX_SA_KEY", secret_id = var.yandex.sa_key_secret_id }] : []

  webhooks_env = merge(local.common_env, {
    TUNEDROP_WEBHOOKS              = local.webhooks_json
    TUNEDROP_WEBHOOK_REQUIRE_HTTPS = tostring(var.webhook_require_https)
    TUNEDROP_WEBHOOK_TIMEOUT_MS    = tostring(var.webhook_timeout_ms)
  })
}
