/** The account an alert names: for a 4688 that names a target account, the target (it ran the process). */
import { describe, expect, it } from 'vitest';
import { alertFor } from '../../src/detect/alert.js';
import { normalize } from '../../src/normalize/normalize.js';
import { securityEvent } from '../correlate/events.js';

const rule = {
  id: 'r',
  title: 'r',
  level: 'high' as const,
  kind: 'sigma' as const,
  author: 'lotl',
  techniques: [],
  tactics: [],
};

describe('the acting account of an alert', () => {
  it('is the target of a 4688 that names one, else its creator', () => {
    const data = {
      SubjectUserName: 'FS02$',
      SubjectDomainName: 'CONTOSO',
      SubjectLogonId: '0x3e7',
      NewProcessName: 'C:\\Windows\\System32\\cmd.exe',
    };
    const runas = securityEvent(0, 4688, {
      ...data,
      TargetUserName: 'svc-fortinet',
      TargetDomainName: 'CONTOSO',
    });
    expect(alertFor(normalize(runas), rule).user).toBe('CONTOSO\\svc-fortinet');
    const own = securityEvent(0, 4688, { ...data, TargetUserName: '-', TargetDomainName: '-' });
    expect(alertFor(normalize(own), rule).user).toBe('CONTOSO\\FS02$');
  });
});
