import type { SourceProfile } from '../profile.js';
import { DEFENDER_PROFILES, ECS_PROFILES } from './defender.js';
import { SYSMON_PROFILES } from './sysmon.js';
import {
  APPLICATION_PROFILES,
  POWERSHELL_PROFILES,
  SECURITY_PROFILES,
  SYSTEM_PROFILES,
  TERMINAL_SERVICES_PROFILES,
} from './windows.js';

/** Every built-in source profile, in the order they are documented. */
export const ALL_PROFILES: readonly SourceProfile[] = [
  ...SYSMON_PROFILES,
  ...SECURITY_PROFILES,
  ...SYSTEM_PROFILES,
  ...TERMINAL_SERVICES_PROFILES,
  ...POWERSHELL_PROFILES,
  ...APPLICATION_PROFILES,
  ...DEFENDER_PROFILES,
  ...ECS_PROFILES,
];
