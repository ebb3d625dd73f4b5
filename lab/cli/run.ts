import { exitCleanlyOnSignals } from '../core/temp.js';
import { main } from './main.js';

exitCleanlyOnSignals();
process.exitCode = await main(process.argv);
