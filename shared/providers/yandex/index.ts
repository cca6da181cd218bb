export {
  isYandexTuningState,
  type YandexTuningState,
  yandexStatesFor,
  yandexStateTable,
  yandexToJobState,
  yandexTuningStates,
} from './states.ts';
