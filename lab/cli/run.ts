import { exitCleanlyOnSignals } from '../core/temp.js';
import { takeTokensFromEnvironment } from '../github/credentials.js';
import { main } from './main.js';

// Before anything runs: no build, codegen step or decoder started from here may read a token.
takeTokensFromEnvironment();
exitCleanlyOnSignals();
process.exitCode = await main(process.argv);
