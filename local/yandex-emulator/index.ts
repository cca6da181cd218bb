export { checkTextToTextDataset, type DatasetCheck, minRows, type RowError } from './dataset-check.ts';
export { type YandexFaultSettings, YandexFaultUpdate } from './faults.ts';
export {
  type EmulatedTask,
  startYandexEmulator,
  type YandexEmulator,
  type YandexEmulatorOptions,
} from './server.ts';
export { typeUrls } from './state.ts';
