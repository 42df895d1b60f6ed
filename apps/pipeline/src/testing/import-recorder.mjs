// `node --import <this file>`: registers import-recorder-hooks.mjs before the program's first import.
import { register } from 'node:module';

register('./import-recorder-hooks.mjs', import.meta.url);
