import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { describe, expect, it } from 'vitest';
import { uniqueName } from '../support/names.ts';

describe('the emulators started by the test setup', () => {
  it('serve Firestore reads and writes', async () => {
    const firestore = new Firestore({ projectId: process.env.GOOGLE_CLOUD_PROJECT });
    const doc = firestore.collection(uniqueName('probe')).doc('one');
    await doc.set({ hello: 'world' });
    expect((await doc.get()).data()).toEqual({ hello: 'world' });
    await firestore.terminate();
  });

  it('serve Pub/Sub topics and subscriptions', async () => {
    const pubsub = new PubSub({ projectId: process.env.GOOGLE_CLOUD_PROJECT });
    const [topic] = await pubsub.createTopic(uniqueName('probe'));
    const [subscription] = await topic.createSubscription(uniqueName('probe-sub'));
    await topic.publishMessage({ json: { n: 1 } });
    const message = await new Promise<string>((resolve) =>
      subscription.once('message', (received) => {
        received.ack();
        resolve(received.data.toString());
      }),
    );
    expect(JSON.parse(message)).toEqual({ n: 1 });
    await subscription.close();
    await pubsub.close();
  });
});
