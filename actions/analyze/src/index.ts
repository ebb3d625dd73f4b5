import { runnerCore } from '../../shared.js';
import { run } from './main.js';

await run(runnerCore);
