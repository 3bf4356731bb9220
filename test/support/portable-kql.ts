/**
 * KQL queries in the portable subset (detect/kql/to-tree.ts) over the bundled examples, each with
 * a total order so that every engine must return the same rows in the same order. Together they
 * use every operator, aggregate and function the subset has; kql-tree.test.ts holds the tree on
 * DuckDB to the embedded compiler's rows, clickhouse-kql.test.ts the tree on ClickHouse.
 */
export const NOW = new Date('2023-05-20T00:00:00Z');

export const PORTABLE_QUERIES: Record<string, string> = {
  'has, has_any, has_all, projected': `DeviceProcessEvents
| where ProcessCommandLine has_any ("ntdsutil", "netsh", "wmic") or ProcessCommandLine has_all ("rundll32", "comsvcs")
| where not(ProcessCommandLine has "calc")
| project Timestamp, DeviceName, FileName, ProcessCommandLine
| sort by Timestamp asc, ProcessCommandLine asc, DeviceName asc`,
  'contains, startswith, endswith (and _cs), =~, !~': `DeviceProcessEvents
| where ProcessCommandLine contains "PORTPROXY" or FolderPath startswith @"c:\\windows\\system32\\wbem"
    or FileName endswith ".EXE" and FileName !~ "cmd.exe"
| where not(ProcessCommandLine contains_cs "PORTPROXY") and not(FileName startswith_cs "X") and not(FileName endswith_cs ".EXE")
| project Timestamp, FileName, FolderPath
| sort by Timestamp asc, FileName asc, FolderPath asc`,
  'in, !in, in~, between, comparisons on numbers and text': `SecurityEvent
| where EventID in (4624, 4625, 4688) and EventID !in (4625) and Computer in~ ("DC01.CONTOSO.LOCAL", "fs02.contoso.local")
| where EventID between (4600 .. 4700) and EventID != 4689 and EventID >= 4624 and EventID == "4624" or EventID == 4688
| project TimeGenerated, EventID, Computer, Account
| sort by TimeGenerated asc, EventID asc, Account asc`,
  'summarize: count, countif, dcount, min, max, sum, avg, by bin()': `SecurityEvent
| summarize Events = count(), Logons = countif(EventID == 4624), Hosts = dcount(Computer), First = min(TimeGenerated),
    Last = max(TimeGenerated), IdSum = sum(EventID), IdAvg = avg(EventID) by Day = bin(TimeGenerated, 1d), EventID
| sort by Day asc, EventID asc`,
  'summarize: arg_max, take_any, make_set of one value': `DeviceProcessEvents
| where ProcessCommandLine has "ntdsutil"
| summarize arg_max(Timestamp, ProcessCommandLine, FileName), Names = make_set(FileName), Any = take_any(DeviceName) by DeviceName
| sort by DeviceName asc`,
  'count operator, distinct, top': `DeviceProcessEvents
| distinct DeviceName, FileName
| extend Key = strcat(FileName, "|", DeviceName)
| top 4 by Key asc nulls last`,
  'count of rows': `SecurityEvent | where EventID == 4688 | count`,
  'extend, project-away, project-rename, project-reorder, take': `DeviceProcessEvents
| extend Length = strlen(ProcessCommandLine), Lower = tolower(FileName), Upper = toupper(FileName), Both = strcat(DeviceName, "/", FileName)
| project-rename Command = ProcessCommandLine
| project-away SHA1, SHA256, MD5
| project-reorder Both, Length
| project Both, Length, Lower, Upper, Command, Timestamp
| sort by Timestamp asc, Command asc
| take 7`,
  'text functions: substring, replace_string, extract, split()[i], tostring, toint, iff, case, isempty': `DeviceProcessEvents
| extend Head = substring(ProcessCommandLine, 0, 8), Tail = substring(FileName, 2), Swapped = replace_string(ProcessCommandLine, "\\\\", "/"),
    Port = extract(@"listenport=(\\d+)", 1, ProcessCommandLine), Whole = extract(@"[a-z]+\\.exe", 0, tolower(ProcessCommandLine)),
    Exe = tostring(split(FolderPath, @"\\")[-1]), Drive = tostring(split(FolderPath, ":")[0]), Number = toint("42"), Pid = tostring(ProcessId),
    Kind = iff(FileName =~ "cmd.exe", "shell", "other"), Band = case(strlen(ProcessCommandLine) > 60, "long", strlen(ProcessCommandLine) > 20, "mid", "short"),
    NoCmd = isempty(ProcessCommandLine), HasCmd = isnotempty(ProcessCommandLine), NoPid = isnull(ProcessId)
| project Timestamp, Head, Tail, Swapped, Port, Whole, Exe, Drive, Number, Pid, Kind, Band, NoCmd, HasCmd, NoPid
| sort by Timestamp asc, Swapped asc`,
  'times: ago, now, datetime literals, bin, startofday, arithmetic': `let since = datetime(2023-05-16 09:00:00);
SecurityEvent
| where TimeGenerated > ago(7d) and TimeGenerated >= since and TimeGenerated < now()
| extend Hour = bin(TimeGenerated, 1h), Day = startofday(TimeGenerated), Later = TimeGenerated + 90m, Gap = TimeGenerated - since
| where Gap < 2d and Gap / 1h >= 0
| project TimeGenerated, Hour, Day, Later, EventID, Computer
| sort by TimeGenerated asc, EventID asc, Computer asc`,
  'let: a list, a scalar, a table; matches regex; union': `let tools = dynamic(["ntdsutil.exe", "netsh.exe", "wmic.exe"]);
let host = "DC01.contoso.local";
let starts = DeviceProcessEvents | where FileName in~ (tools);
union (starts | where DeviceName =~ host), (SecurityEvent | where EventID == 4688 and CommandLine matches regex @"(?i)ntdsutil|portproxy")
| project TimeGenerated, DeviceName, Computer, FileName, CommandLine
| sort by TimeGenerated asc, FileName asc, CommandLine asc`,
  'AlertEvidence (the pack as the store keeps it)': `AlertEvidence
| summarize Alerts = count() by Title, Severity
| sort by Alerts desc, Title asc`,
};

/** Queries outside the subset, with the text each error must point at. */
export const REFUSED_QUERIES: { query: string; at: string; says: RegExp }[] = [
  {
    query: 'DeviceProcessEvents | mv-expand x = dynamic([1, 2])',
    at: 'mv-expand x = dynamic([1, 2])',
    says: /mv-expand/,
  },
  {
    query: 'DeviceProcessEvents | join kind=inner (DeviceNetworkEvents) on DeviceId',
    at: 'join kind=inner (DeviceNetworkEvents) on DeviceId',
    says: /join/,
  },
  {
    query: 'let f = (x: string) { strlen(x) };\nDeviceProcessEvents | extend n = f(FileName)',
    at: '(x: string) { strlen(x) }',
    says: /user-defined function/,
  },
  {
    query: 'DeviceProcessEvents | extend h = hash_sha256(FileName)',
    at: 'hash_sha256(FileName)',
    says: /hash_sha256/,
  },
  {
    query: 'DeviceProcessEvents | where ProcessCommandLine has FileName',
    at: 'FileName',
    says: /needle that is not a literal/,
  },
];
