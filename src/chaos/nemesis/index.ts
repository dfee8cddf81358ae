// The nemeses by name (the `--nemesis` list of `kvc chaos`), each in its own file.
import { bitRot } from './bit-rot.js';
import { clockJump } from './clock-jump.js';
import { diskFull } from './disk-full.js';
import { kill } from './kill.js';
import { membership } from './membership.js';
import { partition } from './partition.js';
import { pause } from './pause.js';
import { restart } from './restart.js';
import { slowFsync } from './slow-fsync.js';
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
  'slow-fsync': slowFsync,
  'clock-jump': clockJump,
  'disk-full': diskFull,
  'bit-rot': bitRot,
});

export { ALL_NEMESIS_NAMES, NEMESIS_NAMES, STORAGE_NEMESIS_NAMES, type ActiveFault, type Nemesis, type NemesisContext, type NemesisName } from './types.js';
