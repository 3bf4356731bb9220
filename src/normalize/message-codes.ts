/**
 * Windows writes some Security fields as message codes (`%%4417`) that Event Viewer renders from
 * msobjs.dll (`WriteData (or AddFile)`). EVTX and evtx_dump-style JSON keep the codes; exports
 * that went through Event Viewer or an agent keep the text. Sigma rules are written either way
 * (SigmaHQ: `AccessList|contains: '%%4484'`, and `AccessList|contains: 'WriteData'`), so an access
 * list is offered with both: its codes and their text, whichever it came with.
 *
 * The table was read off real events — Security-Datasets records that carry both the raw
 * `AccessList` and Windows' rendered `Message` (12,265 code/text pairs, each code always the same
 * text); `test/normalize/message-codes.test.ts` re-derives it from the corpus when present.
 */
export const MESSAGE_CODES: Readonly<Record<string, string>> = {
  '1537': 'DELETE',
  '1538': 'READ_CONTROL',
  '1539': 'WRITE_DAC',
  '1540': 'WRITE_OWNER',
  '1541': 'SYNCHRONIZE',
  '4416': 'ReadData (or ListDirectory)',
  '4417': 'WriteData (or AddFile)',
  '4418': 'AppendData (or AddSubdirectory or CreatePipeInstance)',
  '4419': 'ReadEA',
  '4420': 'WriteEA',
  '4423': 'ReadAttributes',
  '4424': 'WriteAttributes',
  '4432': 'Query key value',
  '4433': 'Set key value',
  '4434': 'Create sub-key',
  '4435': 'Enumerate sub-keys',
  '4436': 'Notify about changes to keys',
  '4437': 'Create Link',
  '4480': 'Force process termination',
  '4481': 'Create new thread in process',
  '4482': 'Set process session ID',
  '4483': 'Perform virtual memory operation',
  '4484': 'Read from process memory',
  '4485': 'Write to process memory',
  '4486': 'Duplicate handle into or out of process',
  '4487': 'Create a subprocess of process',
  '4488': 'Set process quotas',
  '4489': 'Set process information',
  '4490': 'Query process information',
  '4491': 'Set process termination port',
  '5376': 'ConnectToServer',
  '5377': 'ShutdownServer',
  '5378': 'InitializeServer',
  '5379': 'CreateDomain',
  '5380': 'EnumerateDomains',
  '5381': 'LookupDomain',
  '5392': 'ReadPasswordParameters',
  '5393': 'WritePasswordParameters',
  '5394': 'ReadOtherParameters',
  '5395': 'WriteOtherParameters',
  '5396': 'CreateUser',
  '5397': 'CreateGlobalGroup',
  '5398': 'CreateLocalGroup',
  '5399': 'GetLocalGroupMembership',
  '5400': 'ListAccounts',
  '5401': 'LookupIDs',
  '5402': 'AdministerServer',
  '5424': 'AddMember',
  '5425': 'RemoveMember',
  '5426': 'ListMembers',
  '5427': 'ReadInformation',
  '5428': 'WriteAccount',
  '5440': 'ReadGeneralInformation',
  '5441': 'ReadPreferences',
  '5442': 'WritePreferences',
  '5443': 'ReadLogon',
  '5444': 'ReadAccount',
  '5446': 'ChangePassword (with knowledge of old password)',
  '5447': 'SetPassword (without knowledge of old password)',
  '5448': 'ListGroups',
  '5449': 'ReadGroupMembership',
  '5450': 'ChangeGroupMembership',
  '5649': 'Query secret value',
  '7168': 'Connect to service controller',
  '7169': 'Create a new service',
  '7170': 'Enumerate services',
  '7171': 'Lock service database for exclusive access',
  '7172': 'Query service database lock state',
  '7173': 'Set last-known-good state of service database',
  '7184': 'Query service configuration information',
  '7186': 'Query status of service',
  '7187': 'Enumerate dependencies of service',
  '7188': 'Start the service',
  '7191': 'Query information from service',
};

const CODE_OF = new Map(Object.entries(MESSAGE_CODES).map(([code, text]) => [text.toLowerCase(), code]));

/**
 * An access list with both spellings: `%%4416 %%4417` gains `ReadData (or ListDirectory)` and
 * `WriteData (or AddFile)`; a rendered list gains its codes. Unknown codes and texts stay as they
 * are; the original comes first.
 */
export function withMessageText(value: string): string {
  const items = value
    .split(/[\r\n\t]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const added: string[] = [];
  for (const item of items) {
    for (const m of item.matchAll(/%%(\d{3,5})/g)) {
      const text = MESSAGE_CODES[m[1]];
      if (text) added.push(text);
    }
    const code = CODE_OF.get(item.toLowerCase());
    if (code) added.push(`%%${code}`);
  }
  return added.length === 0 ? value : `${value}\n${added.join('\n')}`;
}
