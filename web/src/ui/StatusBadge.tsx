import type { Status } from '../api/types';

const CLASS: Record<Status, string> = {
  Pending: 'pending',
  'In Progress': 'progress',
  'Up Next': 'next',
  Completed: 'done',
};

export function StatusBadge({ status }: { status: Status }) {
  return <span className={`badge badge-${CLASS[status]}`}>{status}</span>;
}
