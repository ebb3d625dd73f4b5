export { prepareDatasets, defaultDatasetsDir, type PrepareOptions } from './prepare.js';
export {
  DATASET_NAMES,
  SCALES,
  readManifest,
  requireManifest,
  verifyDatasetFiles,
  type DatasetEntry,
  type DatasetName,
  type Manifest,
  type Scale,
} from './manifest.js';
