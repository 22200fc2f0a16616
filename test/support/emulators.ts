/** Emulators for tests: re-exported from the product module the local runner also uses. */
export {
  ENGINES,
  freePort,
  startEngine,
  startKinesalite,
  startKinesisLocal,
  type EmbeddedKinesis,
  type EngineName,
  type EngineSpec,
} from '../../kinesis/embedded';
