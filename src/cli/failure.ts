/**
 * A failure as a user should read it: system errors (a full disk, too many open files, no
 * permission) as one sentence with what to do; anything else is a bug, shown with its stack.
 */
export function failureText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as NodeJS.ErrnoException;
  const where = e.path ? ` (${e.path})` : '';
  switch (e.code) {
    case 'ENOSPC':
      return `no space left on the device${where}: free some, or point TMPDIR (temporary files) or the output at a larger disk`;
    case 'EDQUOT':
      return `disk quota exceeded${where}`;
    case 'EMFILE':
    case 'ENFILE':
      return `too many open files${where}: raise the limit (ulimit -n)`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied${where}`;
    case 'ENOENT':
      return `no such file or directory${where}`;
    case 'EIO':
      return `input/output error${where}: the disk or the network share failed`;
    default:
      return err.stack ?? err.message;
  }
}
