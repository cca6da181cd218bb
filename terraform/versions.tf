terraform {
  # 1.9 lets a variable's validation refer to other variables (approval budget needs the policy).
  required_version = ">= 1.9"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
    # Only for google_project_service_identity, which makes Google create the Pub/Sub, Vertex AI
    # and Eventarc service agents now, so the IAM bindings below do not race their lazy creation.
    google-beta = {
      source  = "hashicorp/google-beta"
      version = ">= 6.0, < 8.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = ">= 2.4"
    }
    # time_sleep: waits for IAM and service-agent propagation on the first apply (apis.tf).
    time = {
      source  = "hashicorp/time"
      version = ">= 0.9"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}

provider "google-beta" {
  project = var.project_id
  region  = var.region
}
