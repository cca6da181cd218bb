// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are HCL expressions, whose ${...} is Terraform interpolation
/**
 * Plan-level checks of terraform/: who is granted what, on which resource, and what the first
 * apply of a fresh project waits for. They read the HCL as written (hcl.ts), so they need no
 * provider and no project; tf-check covers syntax and the provider schema.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type Block, Configuration, literal, nested } from './hcl.ts';

const tf = new Configuration(fileURLToPath(new URL('../../../terraform', import.meta.url)));

const prefixCondition = (prefix: string) => `local.object_prefix_expression["${prefix}"]`;

/** Every IAM grant: resource address, role, member, condition expression (if any). */
interface Grant {
  address: string;
  role: string;
  member: string;
  forEach?: string;
  count?: string;
  condition?: string;
}

const grants: Grant[] = tf.blocks
  .filter((block) => block.kind === 'resource' && /_iam_(member|binding|policy)$/.test(block.labels[0]!))
  .map((block) => ({
    address: `${block.labels[0]}.${block.labels[1]}`,
    role: literal(block.attributes.get('role')) ?? '',
    member: block.attributes.get('member') ?? block.attributes.get('members') ?? '',
    forEach: block.attributes.get('for_each'),
    count: block.attributes.get('count'),
    condition: nested(block, 'condition')[0]?.attributes.get('expression'),
  }));

const grant = (address: string): Grant => {
  const found = grants.find((g) => g.address === address);
  if (!found) throw new Error(`no grant ${address}`);
  return found;
};
const attribute = (block: Block, name: string) => block.attributes.get(name);

describe('no grant is broader than tunedrop needs', () => {
  it('grants no primitive role (owner, editor, viewer) anywhere', () => {
    expect(grants.length).toBeGreaterThan(20);
    for (const g of grants) expect(g.role, g.address).not.toMatch(/^roles\/(owner|editor|viewer)$/);
  });

  it('grants no predefined Vertex AI role: tuning jobs get a custom role with only their permissions', () => {
    for (const g of grants) expect(g.role, g.address).not.toMatch(/^roles\/aiplatform\./);
    const role = tf.resource('google_project_iam_custom_role', 'tuning_jobs');
    expect(attribute(role, 'permissions')).toBe('local.tuning_job_permissions');
    const permissions = [...tf.local('tuning_job_permissions').matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    expect(permissions.sort()).toEqual([
      'aiplatform.models.get',
      'aiplatform.tuningJobs.cancel',
      'aiplatform.tuningJobs.create',
      'aiplatform.tuningJobs.get',
      'aiplatform.tuningJobs.list',
    ]);
    const use = grant('google_project_iam_member.tuning_jobs');
    expect(use.role).toBe('google_project_iam_custom_role.tuning_jobs.id');
    expect(use.forEach).toBe('local.tuning_job_operators');
    expect(use.member).toBe('google_service_account.runtime[each.key].member');
    expect(tf.local('tuning_job_operators')).toBe('toset(["ingest", "poll", "api"])');
  });

  it('uses only additive grants (no authoritative _iam_binding or _iam_policy that could drop others)', () => {
    for (const g of grants) expect(g.address).toMatch(/_iam_member\./);
  });

  it('makes project-level grants only of roles with no narrower scope, or with a condition', () => {
    const projectGrants = grants.filter((g) => g.address.startsWith('google_project_iam_member.'));
    const allowed: Record<string, 'condition' | 'project-only'> = {
      'roles/datastore.user': 'condition',
      'roles/storage.objectViewer': 'condition',
      'roles/eventarc.eventReceiver': 'project-only',
      'roles/eventarc.serviceAgent': 'project-only',
      'roles/pubsub.publisher': 'project-only',
      'roles/logging.logWriter': 'project-only',
      'google_project_iam_custom_role.tuning_jobs.id': 'project-only',
    };
    for (const g of projectGrants) {
      expect(allowed[g.role], `${g.address} grants ${g.role} on the project`).toBeDefined();
      if (allowed[g.role] === 'condition')
        expect(g.condition, `${g.address} needs a condition`).toBeDefined();
    }
  });
});

describe('the dataset bucket is split by prefix', () => {
  it('lets uploaders create objects under incoming/ only (and read their reports)', () => {
    const write = grant('google_storage_bucket_iam_member.uploaders_write_incoming');
    expect(write).toMatchObject({
      role: 'roles/storage.objectCreator',
      member: 'each.value',
      forEach: 'toset(var.uploaders)',
    });
    expect(write.condition).toBe(prefixCondition('incoming/'));
    expect(grant('google_storage_bucket_iam_member.uploaders_read_reports')).toMatchObject({
      role: 'roles/storage.objectViewer',
      condition: prefixCondition('reports/'),
    });
    const expression = tf.local('object_prefix_expression');
    expect(expression).toContain(
      'resource.name.startsWith(\\"projects/_/buckets/${local.bucket_name}/objects/${prefix}\\")',
    );
    expect(expression).toContain('["incoming/", "reports/", "validated/"]');
  });

  it("lets only tunedrop's ingest identity write reports/ and validated/", () => {
    const writes = grant('google_storage_bucket_iam_member.ingest_writes_own_prefixes');
    expect(writes).toMatchObject({
      role: 'roles/storage.objectUser',
      member: 'google_service_account.runtime["ingest"].member',
      forEach: 'toset(["reports/", "validated/"])',
      condition: 'local.object_prefix_expression[each.key]',
    });
    // Nobody else can create, replace or delete objects in the bucket: the API only creates
    // continuous-tuning manifests under incoming/continue-, the uploaders only under incoming/.
    const writers = grants.filter(
      (g) =>
        g.address.startsWith('google_storage_bucket_iam_member.') &&
        /objectUser|objectCreator|objectAdmin|storage\.admin/.test(g.role),
    );
    expect(writers.map((g) => g.address).sort()).toEqual([
      'google_storage_bucket_iam_member.api_creates_continue_manifests',
      'google_storage_bucket_iam_member.ingest_writes_own_prefixes',
      'google_storage_bucket_iam_member.uploaders_write_incoming',
    ]);
    expect(grant('google_storage_bucket_iam_member.api_creates_continue_manifests')).toMatchObject({
      role: 'roles/storage.objectCreator',
      member: 'google_service_account.runtime["api"].member',
    });
  });

  it('lets the API read reports/ only', () => {
    expect(grant('google_storage_bucket_iam_member.api_reads_reports')).toMatchObject({
      role: 'roles/storage.objectViewer',
      member: 'google_service_account.runtime["api"].member',
      condition: prefixCondition('reports/'),
    });
  });

  it('deletes the pinned copies under validated/ after validated_retention_days, and nothing else by age', () => {
    const bucket = tf.resource('google_storage_bucket', 'datasets');
    const rules = nested(bucket, 'lifecycle_rule');
    const validated = rules.find(
      (rule) => nested(rule, 'condition')[0]?.attributes.get('matches_prefix') === '["validated/"]',
    );
    expect(validated && nested(validated, 'condition')[0]!.attributes.get('age')).toBe(
      'var.validated_retention_days',
    );
    expect(validated && nested(validated, 'action')[0]!.attributes.get('type')).toBe('"Delete"');
    const ageRules = rules.filter((rule) => nested(rule, 'condition')[0]?.attributes.has('age'));
    expect(ageRules).toHaveLength(1);
    expect(literal(attribute(tf.variable('validated_retention_days'), 'default'))).toBe('30');
  });
});

describe('Vertex AI reads as the tuning service agent', () => {
  it('names the Secure Fine Tuning Service Agent of this project', () => {
    expect(tf.local('tuning_service_agent')).toBe(
      '"service-${local.project_number}@gcp-sa-vertex-tune.iam.gserviceaccount.com"',
    );
    expect(tf.local('tuning_service_agent_member')).toBe('"serviceAccount:${local.tuning_service_agent}"');
    expect(tf.local('project_number')).toBe('data.google_project.this.number');
  });

  it('gives it object read on validated/ only, once it exists', () => {
    expect(grant('google_storage_bucket_iam_member.tuning_agent_reads_validated')).toMatchObject({
      role: 'roles/storage.objectViewer',
      member: 'local.tuning_service_agent_member',
      count: 'local.tuning_service_agent_exists ? 1 : 0',
      condition: prefixCondition('validated/'),
    });
    // No grant of any kind goes to the primary agent on the bucket.
    for (const g of grants.filter((g) => g.address.startsWith('google_storage_bucket_iam_member.'))) {
      expect(g.member, g.address).not.toContain('google_project_service_identity.aiplatform');
    }
  });

  it('warns when the agent does not exist yet instead of failing the apply', () => {
    const check = tf.blocks.find(
      (block) => block.kind === 'check' && block.labels[0] === 'tuning_service_agent',
    );
    expect(check && nested(check, 'assert')[0]!.attributes.get('condition')).toBe(
      'local.tuning_service_agent_exists',
    );
    expect(tf.local('tuning_service_agent_exists')).toContain(
      'data.google_project_iam_policy.current.policy_data',
    );
  });
});

describe('manifest service accounts and KMS keys the operator allows', () => {
  it('lets every function that starts jobs act as each allowed account', () => {
    expect(grant('google_service_account_iam_member.operators_act_as_tuning_accounts')).toMatchObject({
      role: 'roles/iam.serviceAccountUser',
      member: 'google_service_account.runtime[each.value.runtime].member',
      forEach: 'local.allowed_service_account_users',
    });
    expect(tf.local('allowed_service_account_users')).toContain('local.tuning_job_operators');
  });

  it('lets the tuning service agent mint tokens for each allowed account, and the account read validated/', () => {
    expect(
      grant('google_service_account_iam_member.tuning_agent_impersonates_tuning_accounts'),
    ).toMatchObject({
      role: 'roles/iam.serviceAccountTokenCreator',
      member: 'local.tuning_service_agent_member',
    });
    expect(grant('google_storage_bucket_iam_member.tuning_accounts_read_validated')).toMatchObject({
      role: 'roles/storage.objectViewer',
      member: '"serviceAccount:${each.key}"',
      forEach: 'local.allowed_service_accounts',
      condition: prefixCondition('validated/'),
    });
  });

  it('gives both Vertex AI agents encrypter/decrypter on each allowed key', () => {
    expect(grant('google_kms_crypto_key_iam_member.vertex_agents_use_keys')).toMatchObject({
      role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter',
      member: 'each.value.member',
      forEach: 'local.kms_key_users',
    });
    const users = tf.local('kms_key_users');
    expect(users).toContain('google_project_service_identity.aiplatform.email');
    expect(users).toContain('local.tuning_service_agent_member');
  });

  it('passes the same lists to the functions, so ingest refuses the others', () => {
    const env = tf.local('common_env');
    expect(env).toContain(
      'TUNEDROP_ALLOWED_SERVICE_ACCOUNTS = coalesce(join(",", var.allowed_tuning_service_accounts), "none")',
    );
    expect(env).toContain(
      'TUNEDROP_ALLOWED_KMS_KEYS         = coalesce(join(",", var.allowed_kms_keys), "none")',
    );
  });
});

describe('the first apply on a fresh project', () => {
  it('lets the build identity read the gcf-v2-sources bucket, before that bucket exists', () => {
    const g = grant('google_project_iam_member.build_reads_gcf_sources');
    expect(g).toMatchObject({
      role: 'roles/storage.objectViewer',
      member: 'google_service_account.build.member',
    });
    expect(g.condition).toContain('projects/_/buckets/${local.gcf_sources_bucket}');
    expect(tf.local('gcf_sources_bucket')).toBe('"gcf-v2-sources-${local.project_number}-${var.region}"');
  });

  it('creates the Eventarc service agent and grants its role before the storage trigger', () => {
    const identity = tf.resource('google_project_service_identity', 'eventarc');
    expect(literal(attribute(identity, 'service'))).toBe('eventarc.googleapis.com');
    expect(grant('google_project_iam_member.eventarc_agent')).toMatchObject({
      role: 'roles/eventarc.serviceAgent',
      member: '"serviceAccount:${google_project_service_identity.eventarc.email}"',
    });
    // The Cloud Storage agent still publishes the trigger's notifications.
    expect(grant('google_project_iam_member.gcs_agent_publishes').role).toBe('roles/pubsub.publisher');
  });

  it('waits after APIs, agents and grants before any function (time_sleep), and only when they change', () => {
    const wait = tf.resource('time_sleep', 'iam_propagation');
    expect(attribute(wait, 'create_duration')).toBe('"${var.first_apply_wait_seconds}s"');
    const triggers = attribute(wait, 'triggers') ?? '';
    for (const dependency of [
      'google_project_service.enabled',
      'google_project_service_identity.eventarc',
      'google_project_iam_member.eventarc_agent',
      'google_project_iam_member.gcs_agent_publishes',
      'google_project_iam_member.trigger_receives_events',
      'google_project_iam_member.build_reads_gcf_sources',
    ]) {
      expect(triggers).toContain(dependency);
    }
    for (const name of ['ingest', 'poll', 'webhooks', 'api']) {
      const fn = tf.resource('google_cloudfunctions2_function', name);
      expect(attribute(fn, 'depends_on'), name).toContain('time_sleep.iam_propagation');
    }
  });

  it('creates Firestore database, TTL field and indexes only after the Firestore API', () => {
    expect(attribute(tf.resource('google_firestore_database', 'tunedrop'), 'depends_on')).toContain(
      'google_project_service.enabled',
    );
    for (const block of [
      ...tf.resources('google_firestore_index'),
      ...tf.resources('google_firestore_field'),
    ]) {
      expect(attribute(block, 'depends_on'), block.labels[1]).toContain('google_project_service.enabled');
    }
  });

  it('replaces each invoker grant with the function it names', () => {
    const invokers: Record<string, string> = {
      trigger_invokes_ingest: 'ingest',
      scheduler_invokes_poll: 'poll',
      push_invokes_webhooks: 'webhooks',
      api_invokers: 'api',
    };
    for (const [name, fn] of Object.entries(invokers)) {
      const block = tf.resource('google_cloud_run_service_iam_member', name);
      expect(attribute(block, 'service')).toBe(`google_cloudfunctions2_function.${fn}.name`);
      expect(nested(block, 'lifecycle')[0]?.attributes.get('replace_triggered_by')).toBe(
        `[google_cloudfunctions2_function.${fn}.id]`,
      );
    }
  });

  it('refuses an existing bucket of another project, whose events Eventarc cannot deliver here', () => {
    const bucket = tf.data('google_storage_bucket', 'existing');
    const postcondition = nested(nested(bucket, 'lifecycle')[0]!, 'postcondition')[0]!;
    expect(postcondition.attributes.get('condition')).toBe(
      'tostring(self.project_number) == tostring(data.google_project.this.number)',
    );
    expect(postcondition.attributes.get('error_message')).toContain(
      'Eventarc storage triggers cannot receive events from a bucket in another project',
    );
  });

  it('gives ingest-dataset the two CPUs its validator uses', () => {
    const service = nested(tf.resource('google_cloudfunctions2_function', 'ingest'), 'service_config')[0]!;
    expect(literal(service.attributes.get('available_cpu'))).toBe('2');
  });
});

describe('production you can watch', () => {
  const policies = tf.resources('google_monitoring_alert_policy');

  it('alerts on dead letters, failing polls, stalled or failed jobs, rejections and quota waits', () => {
    // The alerts on any counted event are one resource, a policy per key of local.event_count_alerts.
    const eventCountAlerts = [...tf.local('event_count_alerts').matchAll(/(\w+) = \{ display_name =/g)].map(
      (match) => match[1],
    );
    const single = policies.filter((p) => p.labels[1] !== 'event_count').map((p) => p.labels[1]);
    expect(attribute(tf.resource('google_monitoring_alert_policy', 'event_count'), 'for_each')).toBe(
      'local.event_count_alerts',
    );
    expect([...single, ...eventCountAlerts].sort()).toEqual([
      'ingest_rejections',
      'jobs_stalled_or_failed',
      'poll_failing',
      'quota_waits',
      'webhooks_dead_lettered',
    ]);
    for (const policy of policies) {
      expect(attribute(policy, 'notification_channels'), policy.labels[1]).toBe('var.notification_channels');
      expect(nested(policy, 'documentation'), policy.labels[1]).toHaveLength(1);
    }
  });

  it('has a dashboard of jobs by state, upload to job latency, webhook latency and retries', () => {
    const tiles = tf.local('dashboard_tiles');
    for (const title of [
      'Jobs entering each state',
      'Upload to job latency',
      'Webhook delivery latency',
      'failed = retried by Pub/Sub',
    ]) {
      expect(tiles).toContain(title);
    }
    expect(tf.resources('google_monitoring_dashboard')).toHaveLength(1);
  });
});
