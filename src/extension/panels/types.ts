// The parts of the extension core the panels use: a narrow view of Services, so a panel cannot
// reach the job manager's internals and tests can hand in small fakes.

import type { JobManager, RunsModel, Services } from '../services';

export type { RunSnapshot } from '../services';

export type PanelRuns = Pick<RunsModel, 'onDidChange' | 'list' | 'get' | 'refresh' | 'runsFolder'>;
export type PanelJobs = Pick<JobManager, 'start' | 'stop'>;

export interface PanelServices {
  runs: PanelRuns;
  jobs: PanelJobs;
  output: Services['output'];
  comparison: Services['comparison'];
}
