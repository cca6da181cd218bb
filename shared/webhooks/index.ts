export {
  type DeliverOptions,
  type DeliveryOutcome,
  deliverEvent,
  type EndpointRef,
  type FailureReason,
  isRetryable,
  loggablePath,
  type WebhookEvent,
  wantsEvent,
} from './deliver.ts';
export {
  checkEndpoint,
  type EndpointCheck,
  type EndpointPolicy,
  normaliseHost,
  type ResolvedAddress,
  type ResolveHost,
  resolveWithDns,
} from './endpoint-policy.ts';
export { DeliverableEvent } from './event.ts';
export {
  createFirestoreDeliveryLedger,
  createFirestoreEndpointStateStore,
  defaultDeliveryRecordTtlMs,
  webhookDeliveriesCollection,
  webhookEndpointsCollection,
} from './firestore-state-store.ts';
export { refusedAddressReason } from './ip-address.ts';
export {
  secretPrefix,
  signWebhook,
  type VerifyResult,
  verifyWebhook,
  type WebhookHeaders,
  webhookBody,
} from './signing.ts';
export {
  type AttemptStart,
  createMemoryDeliveryLedger,
  createMemoryEndpointStateStore,
  type DeliveryKey,
  type DeliveryLedger,
  deliveryIdOf,
  type EndpointStateStore,
  endpointFingerprintOf,
  endpointIdOf,
  type GoneEndpoint,
} from './state-store.ts';
export { httpTransport, type PinnedRequest, type Transport, type TransportResult } from './transport.ts';
