// The nemeses by name (the `--nemesis` list of `kvc chaos`), each in its own file.
import { kill } from './kill.js';
import { membership } from './membership.js';
import { partition } from './partition.js';
import { pause } from './pause.js';
import { restart } from './restart.js';
import { transfer } from './transfer.js';
import { walTail } from './wal-tail.js';
import type { Nemesis, NemesisName } from './types.js';

export const NEMESES: Readonly<Record<NemesisName, Nemesis>> = Object.freeze({
  kill,
  pause,
  partition,
  restart,
  'wal-tail': walTail,
  membership,
  transfer,
});

export { NEMESIS_NAMES, type ActiveFault, type Nemesis, type NemesisContext, type NemesisName } from './types.js';
