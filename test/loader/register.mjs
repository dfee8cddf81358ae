// `node --import ./test/loader/register.mjs`: registers the test processes' TypeScript loader
// (./hooks.mjs; package.json "tap"."node-arg").
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
