/**
 * `lotl serve` as a user starts it (the built CLI in a child process, on loopback, a free port),
 * for the API, fault and browser tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Alert } from '../../src/detect/alert.js';
import { answersKey, CLI, ROOT, runCli, TEST_CACHE } from '../helpers.js';

/** The example scenario's files, as a user uploads them (examples/README.md). */
export const SCENARIO_FILES = [
  'sysmon-fs02-ws07.jsonl',
  'security-week.jsonl',
  'security-application-dc01.jsonl',
  'defender-portal-export.csv',
  'defender/DeviceProcessEvents.json',
  'defender/DeviceLogonEvents.json',
  'defender/DeviceFileEvents.json',
];

export interface RunningServer {
  url: string;
  token: string;
  process: ChildProcess;
  stderr: () => string;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: no chance to clean up. */
  kill(): Promise<void>;
}

export function startServer(
  args: string[],
  token = 'test-token',
  port = 0,
  env: Record<string, string> = {},
): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', String(port), '--token', token, ...args], {
      cwd: ROOT,
      env: { ...process.env, LOTL_CACHE_DIR: TEST_CACHE, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const timer = setTimeout(() => reject(new Error(`lotl serve did not start in 30 s:\n${err}`)), 30_000);
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/[^/\s]+)\//.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          token,
          process: child,
          stderr: () => err,
          stop: async () => {
            child.kill('SIGTERM');
            await exited;
          },
          kill: async () => {
            child.kill('SIGKILL');
            await exited;
          },
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`lotl serve exited (${code}) before listening:\n${err}`));
    });
  });
}

/** A server's answers as `lotl report` writes them (its JSON document's four parts), for answersKey. */
export async function serverAnswers(server: RunningServer): Promise<string> {
  const incidents = await (await fetch(`${server.url}/api/incidents`)).json();
  const signins = await (await fetch(`${server.url}/api/signins`)).json();
  return answersKey(
    JSON.stringify({
      incidents: incidents.incidents,
      accounts: incidents.accounts,
      signins: signins.signins,
      coverage: signins.coverage,
    }),
  );
}

/** The alerts `lotl hunt` raises on examples/ (the pack, its KQL hunts, the correlate stage). */
export async function huntedExamples(): Promise<Alert[]> {
  return (await runCli(['hunt', '--format', 'jsonl', 'examples/'])).stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Alert);
}

/** A Security 4688 (ipconfig by jdoe) as a JSON line; its record number also sets its time and text. */
export function processCreation(record: number, host: string): string {
  return JSON.stringify({
    Event: {
      System: {
        Provider: { '#attributes': { Name: 'Microsoft-Windows-Security-Auditing' } },
        EventID: 4688,
        EventRecordID: record,
        Channel: 'Security',
        Computer: host,
        TimeCreated: {
          '#attributes': { SystemTime: new Date(Date.UTC(2024, 0, 1) + record * 1000).toISOString() },
        },
      },
      EventData: {
        SubjectUserName: 'jdoe',
        SubjectDomainName: 'CORP',
        NewProcessName: 'C:\\Windows\\System32\\ipconfig.exe',
        CommandLine: `ipconfig /all #${record}`,
        ParentProcessName: 'C:\\Windows\\System32\\cmd.exe',
      },
    },
  });
}
