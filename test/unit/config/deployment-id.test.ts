import { describe, expect, it } from 'vitest';
import { ConfigError, DeploymentId, deploymentIdFor, loadConfig } from '../../../shared/config/index.ts';

/** Yandex Cloud's label value rule and Vertex AI's (lowercase, digits, `_`, `-`; at most 63). */
const validLabelValue = /^[a-z0-9_-]{1,63}$/;

describe("the deployment's identity", () => {
  it('is the same on every start of one deployment, with nothing set', () => {
    const env = {
      GOOGLE_CLOUD_PROJECT: 'acme-ml-prod',
      TUNEDROP_FIRESTORE_DATABASE: 'tunedrop',
      TUNEDROP_JOBS_COLLECTION: 'jobs',
    };
    const id = loadConfig(env).deploymentId;
    expect(loadConfig({ ...env }).deploymentId).toBe(id);
    expect(id).toBe(
      deploymentIdFor({ project: 'acme-ml-prod', firestoreDatabase: 'tunedrop', jobsCollection: 'jobs' }),
    );
    expect(id).toMatch(validLabelValue);
  });

  it('differs between deployments: another project, database or jobs collection', () => {
    const base = { project: 'acme', firestoreDatabase: '(default)', jobsCollection: 'tunedrop-jobs' };
    const ids = new Set([
      deploymentIdFor(base),
      deploymentIdFor({ ...base, project: 'acme-staging' }),
      deploymentIdFor({ ...base, firestoreDatabase: 'staging' }),
      deploymentIdFor({ ...base, jobsCollection: 'tunedrop-jobs-staging' }),
      // No ambiguity where the parts meet.
      deploymentIdFor({ project: 'acme', firestoreDatabase: 'a', jobsCollection: 'b-c' }),
      deploymentIdFor({ project: 'acme', firestoreDatabase: 'a-b', jobsCollection: 'c' }),
    ]);
    expect(ids.size).toBe(6);
    for (const id of ids) expect(id).toMatch(validLabelValue);
  });

  it('is a valid label value whatever the names it comes from', () => {
    const id = deploymentIdFor({
      project: 'A-Project_With.Upper',
      firestoreDatabase: '(default)',
      jobsCollection: 'Jobs With Spaces',
    });
    expect(id).toMatch(validLabelValue);
    expect(id).toHaveLength(16);
  });

  it('takes TUNEDROP_DEPLOYMENT_ID as given', () => {
    expect(loadConfig({ GOOGLE_CLOUD_PROJECT: 'p', TUNEDROP_DEPLOYMENT_ID: 'prod-eu' }).deploymentId).toBe(
      'prod-eu',
    );
  });

  it('refuses an override that is not a valid label value, naming the variable', () => {
    for (const bad of ['Prod', 'prod eu', 'prod.eu', '-prod', 'x'.repeat(64)]) {
      expect(DeploymentId.safeParse(bad).success).toBe(false);
      expect(() => loadConfig({ GOOGLE_CLOUD_PROJECT: 'p', TUNEDROP_DEPLOYMENT_ID: bad })).toThrow(
        /TUNEDROP_DEPLOYMENT_ID/,
      );
    }
    expect(() => loadConfig({ GOOGLE_CLOUD_PROJECT: 'p', TUNEDROP_DEPLOYMENT_ID: 'Prod' })).toThrow(
      ConfigError,
    );
  });
});
